"""The stock module as seen by the improvement module: receptions as problem origins, anomaly Paretos."""
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from shopfloor.auth.models import Site, Team
from modules.improvement.models import ProblemSheet
from shopfloor.origins import describe, origins
from shopfloor.origins import pareto_counts as from_source, pareto_sources
from modules.stock.models import Supplier
from modules.stock.reception import LineInput
from modules.stock import reception as receiving
from tests.conftest import fresh, login


def _damaged(store, note="BL-1", supplier=None, when=None, user=None):
    supplier = supplier or store.db.scalar(select(Supplier))
    rec = receiving.receive(store.db, user or store.people.apprentice, supplier=supplier, delivery_note=note,
                            now=when or store.now,
                            lines=[LineInput(sku="VIS-M8", qty=Decimal(10), location="A-01-02-1"),
                                   LineInput(sku="COL-100", qty=Decimal(4), lot="L1", expiry=store.day(200),
                                             packaging_ok=False, conforming=False, reason="Carton écrasé"),
                                   LineInput(sku="CART-40", qty=Decimal(5), note_qty=Decimal(8))])
    store.db.commit()
    return rec


def test_a_reception_is_a_registered_origin(app, db, store):
    rec = _damaged(store)
    assert origins(db)["stock_reception"].label == "Réception"
    with app.app_context():  # a record's link outside a request comes from the app's BASE_URL
        found = describe(db, "stock_reception", rec.id)
    assert found["title"] == "Réception BL-1 – Colles Durand" and found["url"] == f"/stock/receptions/{rec.id}"
    assert describe(db, "stock_reception", 999999)["title"].endswith("(introuvable)")


def test_the_reception_page_opens_a_prefilled_problem_sheet_which_proposes_log6(client, db, people, store):
    rec = _damaged(store)
    clean = store.receive("VIS-M8", "5")
    login(client, "appr", "clef-atelier-2026")
    assert "Ouvrir une fiche problème" not in client.get(f"/stock/receptions/{clean.id}").get_data(as_text=True)
    page = client.get(f"/stock/receptions/{rec.id}").get_data(as_text=True)
    start = page.index('id="open-problem" href="') + len('id="open-problem" href="')
    link = unescape(page[start:page.index('"', start)])
    query = parse_qs(urlparse(link).query)
    assert urlparse(link).path == "/improvement/problems/new"
    assert query["origin_type"] == ["stock_reception"] and query["origin_id"] == [str(rec.id)]
    assert "Carton écrasé" in query["what"][0] and "BL-1" in query["title"][0]

    form = client.get(link)
    assert form.status_code == 200
    body = form.get_data(as_text=True)
    assert 'value="stock_reception" selected' in body and "Carton écrasé" in body
    created = client.post("/improvement/problems/new", data={
        "title": query["title"][0], "method": "QRQC", "what": query["what"][0],
        "origin_type": "stock_reception", "origin_id": str(rec.id)})
    assert created.status_code == 302, created.get_data(as_text=True)[:600]
    fresh(db)
    sheet = db.scalar(select(ProblemSheet))
    assert (sheet.origin_type, sheet.origin_id) == ("stock_reception", rec.id)
    assert "LOG-6" in sheet.proposed_competences(())


def test_anomaly_paretos_by_supplier_and_by_kind_within_the_period_and_team(db, store, people, now):
    other = Supplier(name="Visserie du Rhône", lead_time_days=3)
    site = Site(name="Usine école")
    logistics = Team(site=site, name="Logistique")
    db.add_all([other, logistics])
    db.flush()
    people.other_apprentice.site_id, people.other_apprentice.team_id = site.id, logistics.id
    _damaged(store, "BL-1")
    _damaged(store, "BL-2", supplier=other)
    _damaged(store, "BL-OLD", when=now - timedelta(days=40))
    _damaged(store, "BL-APPR2", supplier=other, user=people.other_apprentice)
    assert {"stock_anomalies_by_supplier", "stock_anomalies_by_kind"} <= set(pareto_sources(db))
    day = now.date()
    by_supplier = dict(from_source(db, "stock_anomalies_by_supplier", day - timedelta(days=7), day, None))
    assert by_supplier == {"Colles Durand": 2.0, "Visserie du Rhône": 4.0}  # 2 anomalies per delivery, not BL-OLD
    team = dict(from_source(db, "stock_anomalies_by_supplier", day - timedelta(days=7), day, logistics.id))
    assert team == {"Visserie du Rhône": 2.0}  # only BL-APPR2 was received by that team
    by_kind = from_source(db, "stock_anomalies_by_kind", day - timedelta(days=60), day, None)
    assert sorted(by_kind) == [("Livraison incomplète", 4.0), ("Marchandise endommagée", 4.0)]


def test_the_reception_page_opens_a_supplier_nonconformity_linked_back(client, db, people, store):
    from modules.qse.models import NonConformity
    rec = _damaged(store)
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/stock/receptions/{rec.id}").get_data(as_text=True)
    start = page.index('id="open-nc" href="') + len('id="open-nc" href="')
    link = unescape(page[start:page.index('"', start)])
    assert link == f"/qse/nonconformities/new?reception={rec.id}"
    assert client.get(link).status_code == 200
    created = client.post("/qse/nonconformities/new", data={
        "reception": str(rec.id), "title": "Colle livrée carton écrasé", "source": "supplier", "severity": "minor",
        "requirement": "contractual", "description": "Carton écrasé à la réception"})
    assert created.status_code == 302, created.get_data(as_text=True)[:600]
    fresh(db)
    nc = db.scalar(select(NonConformity))
    assert nc.reception_id == rec.id
