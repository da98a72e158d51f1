"""A fresh site set up through the API alone: supplier, carrier, item and locations, then a reception posted
through the API lands (issue 18, master data through the API)."""
from tests.conftest import People, login


def test_a_fresh_site_sets_up_its_master_data_then_receives_through_the_api(client, people: People):
    tutor, apprentice = people.headers(people.tutor), people.headers(people.apprentice)
    supplier = client.post("/api/v1/stock/suppliers", headers=tutor,
                           json={"name": "Visserie Martin", "lead_time_days": 4, "contact": "cde@visserie.fr"})
    assert supplier.status_code == 201, supplier.get_json()
    assert supplier.get_json() | {"id": 0} == {"id": 0, "name": "Visserie Martin", "lead_time_days": 4,
                                               "contact": "cde@visserie.fr"}
    assert client.post("/api/v1/stock/carriers", headers=tutor, json={"name": "Transports Roux"}).status_code == 201
    assert client.post("/api/v1/stock/items", headers=tutor, json={
        "sku": "VIS-M6", "name": "Vis CHC M6x20", "strategy": "fifo", "lot_tracked": False}).status_code == 201
    for code, kind in (("QUAI-01", "reception"), ("A-01-01-1", "storage")):
        location = client.post("/api/v1/stock/locations", headers=tutor, json={"code": code, "kind": kind})
        assert location.status_code == 201

    assert client.post("/api/v1/stock/suppliers", headers=tutor, json={"name": "Électro Sud"}).status_code == 201
    reception = client.post("/api/v1/stock/receptions", headers=apprentice, json={
        "supplier": "Électro Sud", "carrier": "transports roux", "delivery_note": "BL-2026-001",
        "lines": [{"sku": "VIS-M6", "qty": 200}]})
    assert reception.status_code == 201, reception.get_json()
    landed = reception.get_json()
    assert landed["supplier"] == "Électro Sud" and landed["carrier"] == "Transports Roux"   # found as typed, or by case
    suppliers = client.get("/api/v1/stock/suppliers", headers=apprentice).get_json()
    carriers = client.get("/api/v1/stock/carriers", headers=apprentice).get_json()
    assert {s["name"] for s in suppliers} == {"Visserie Martin", "Électro Sud"}
    assert [c["name"] for c in carriers] == ["Transports Roux"]


def test_master_data_is_refused_to_apprentices_and_twice(client, people: People):
    tutor, apprentice = people.headers(people.tutor), people.headers(people.apprentice)
    assert client.get("/api/v1/stock/carriers", headers=apprentice).get_json() == []
    assert client.post("/api/v1/stock/suppliers", headers=apprentice, json={"name": "Colles Durand"}).status_code == 403
    assert client.post("/api/v1/stock/suppliers", headers=tutor, json={"name": "Colles Durand"}).status_code == 201
    again = client.post("/api/v1/stock/suppliers", headers=tutor, json={"name": "colles durand"})
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "name"
    # the databases lower ASCII letters only: the same name with an accented capital is still refused (was a 500)
    assert client.post("/api/v1/stock/carriers", headers=tutor, json={"name": "Électro Sud"}).status_code == 201
    again = client.post("/api/v1/stock/carriers", headers=tutor, json={"name": "Électro Sud"})
    assert again.status_code == 409 and "existe déjà" in again.get_json()["error"]["message"]
    missing = client.post("/api/v1/stock/carriers", headers=tutor, json={})
    assert missing.status_code == 422 and missing.get_json()["error"]["field"] == "name"


def test_the_partner_forms_address_opened_directly_leads_to_their_page(client, people: People):
    login(client, "appr", "clef-atelier-2026")
    for address in ("/stock/suppliers", "/stock/carriers"):
        answer = client.get(address)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/stock/partners")
