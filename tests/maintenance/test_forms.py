"""HTML forms of the register: equipment (create, edit), preventive plans, CSV import with its line report;
tutors and admins only."""
from __future__ import annotations

import io

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from modules.maintenance.models import Equipment, Plan
from shopfloor.forms import field_label
from tests.conftest import fresh, login

EQUIPMENT = {"code": "COMP-02", "name": "Compresseur à vis", "level": "equipment", "criticality": "A",
             "maker": "Atlas Copco", "model": "GA 11", "technologies": ["mecanique", "pneumatique"],
             "energies": ["electrique", "pneumatique"], "meters": ["hours"],
             "reference_values": "température = 78\npression = 7,5"}


def _count(db, model):
    fresh(db)
    return db.scalar(select(func.count(model.id)))


@pytest.mark.parametrize("path", ["/maintenance/equipment/new", "/maintenance/plans/new",
                                  "/maintenance/equipment/import", "/maintenance/equipment/TOUR-01/edit"])
def test_apprentices_cannot_manage_the_register(client, shop, path):
    login(client, "appr", "clef-atelier-2026")
    assert client.get(path).status_code == 403
    assert client.post(path, data=EQUIPMENT).status_code == 403


def test_tutor_creates_and_edits_equipment(client, db, people):
    login(client, "tutor", "clef-formateur-2026")
    assert client.get("/maintenance/equipment/new").status_code == 200
    assert client.post("/maintenance/equipment/new", data=EQUIPMENT).status_code == 302
    fresh(db)
    eq = db.scalar(select(Equipment).where(Equipment.code == "COMP-02"))
    assert eq.energies == ["electrique", "pneumatique"] and eq.technologies == ["mecanique", "pneumatique"]
    assert eq.reference_values == {"température": 78.0, "pression": 7.5} and eq.criticality == "A"
    page = client.get("/maintenance/equipment/COMP-02/edit")
    assert page.status_code == 200 and "pression = 7.5" in page.text
    edited = client.post("/maintenance/equipment/COMP-02/edit", data={**EQUIPMENT, "criticality": "B",
                                                                      "energies": ["electrique"]})
    assert edited.status_code == 302
    fresh(db)
    eq = db.scalar(select(Equipment).where(Equipment.code == "COMP-02"))
    assert eq.criticality == "B" and eq.energies == ["electrique"]


@pytest.mark.parametrize("change, field", [({"code": ""}, "code"), ({"criticality": "Z"}, "criticality"),
                                           ({"energies": ["nucleaire"]}, "energies"),
                                           ({"reference_values": "pression sept"}, "reference_values"),
                                           ({"reference_values": "pression = beaucoup"}, "reference_values")])
def test_bad_equipment_names_the_field_and_writes_nothing(client, db, people, change, field):
    login(client, "tutor", "clef-formateur-2026")
    response = client.post("/maintenance/equipment/new", data={**EQUIPMENT, **change})
    assert response.status_code == 422 and _named(client, field) in response.text
    assert _count(db, Equipment) == 0


def test_duplicate_code_is_a_conflict(client, db, shop):
    login(client, "tutor", "clef-formateur-2026")
    response = client.post("/maintenance/equipment/new", data={**EQUIPMENT, "code": "TOUR-01"})
    assert response.status_code == 409 and "existe déjà" in response.text


def test_plan_form_creates_each_kind_with_its_routine(client, db, shop):
    login(client, "admin", "clef-direction-2026")
    assert "TOUR-01" in client.get("/maintenance/plans/new?equipment=TOUR-01").text
    base = {"equipment": "TOUR-01", "start": "2026-11-20T08:00"}
    kinds = [{"kind": "calendar", "title": "Graissage", "interval": "2", "interval_unit": "weeks",
              "operations": "Graisser les glissières\nJeu de broche ; 0,02 ; 0,01 ; mm"},
             {"kind": "usage", "title": "Vidange", "interval": "500", "interval_unit": "hours"},
             {"kind": "condition", "title": "Vibrations", "parameter": "vibration", "threshold": "4.5"},
             {"kind": "predictive", "title": "Température", "parameter": "temperature", "threshold": "80",
              "lead_days": "3", "window_days": "20"}]
    for data in kinds:
        assert client.post("/maintenance/plans/new", data={**base, **data}).status_code == 302, data
    fresh(db)
    plans = {p.kind: p for p in db.scalars(select(Plan))}
    assert (plans["calendar"].interval_value, plans["calendar"].interval_unit) == (2, "weeks")
    assert plans["calendar"].operations[1] == {"label": "Jeu de broche", "unit": "mm", "expected": 0.02,
                                               "min": pytest.approx(0.01), "max": pytest.approx(0.03)}
    assert plans["usage"].interval_unit == "hours" and plans["predictive"].window_days == 20
    assert plans["condition"].threshold == 4.5


@pytest.mark.parametrize("data, field", [({"kind": "calendar"}, "interval_days"),
                                         ({"kind": "condition", "parameter": "vibration"}, "threshold"),
                                         ({"kind": "calendar", "interval": "7", "interval_unit": "days",
                                           "operations": "Jeu ; beaucoup"}, "operations"),
                                         ({"kind": "marée", "interval": "7"}, "kind"),
                                         ({"equipment": "", "kind": "calendar", "interval": "7"}, "equipment")])
def test_bad_plan_names_the_field_and_writes_nothing(client, db, shop, data, field):
    login(client, "tutor", "clef-formateur-2026")
    response = client.post("/maintenance/plans/new", data={"equipment": "TOUR-01", **data})
    assert response.status_code == 422 and _named(client, field) in response.text
    assert _count(db, Plan) == 0


def test_import_page_reports_every_bad_line(client, db, people):
    login(client, "tutor", "clef-formateur-2026")
    good = ("code;name;level;parent;technologies;criticality;maker;model;energies\n"
            "L1;Ligne 1;line;;;B;;;\nCONV-01;Convoyeur;equipment;L1;mecanique;A;;;electrique\n")
    bad = good + "MOT-01;Moteur;equipment;;;Z;;;\nX;Pompe;equipment;;;A;;;nucleaire\n"
    response = client.post("/maintenance/equipment/import",
                           data={"file": (io.BytesIO(bad.encode()), "parc.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "<li class=\"error-text\">Ligne 4" in response.text and "<li class=\"error-text\">Ligne 5" in response.text
    assert _count(db, Equipment) == 0
    empty = client.post("/maintenance/equipment/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422
    ok = client.post("/maintenance/equipment/import",
                     data={"file": (io.BytesIO(good.encode()), "parc.csv")}, content_type="multipart/form-data")
    assert ok.status_code == 200 and "2 équipement(s) importé(s)" in ok.text
    assert _count(db, Equipment) == 2


def test_a_refused_reading_re_renders_the_equipment_page_with_its_error(client, db, shop):
    """A domain error on the readings form is the page again, with the message and a 422: never a
    redirect with a 4xx status (a browser shows its « Redirecting… » stub instead of following it)."""
    from modules.maintenance.models import Reading
    login(client, "appr", "clef-atelier-2026")
    response = client.post("/maintenance/equipment/TOUR-01/readings", data={"parameter": "vibration", "value": "beaucoup"})
    assert response.status_code == 422 and "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "TOUR-01" in page and "Enregistrer la mesure" in page and "« Valeur »" in page
    assert 'value="beaucoup"' in page   # what was typed is still in the form
    assert _count(db, Reading) == 0
    accepted = client.post("/maintenance/equipment/TOUR-01/readings", data={"parameter": "vibration", "value": "2,5"})
    assert accepted.status_code == 302 and _count(db, Reading) == 1


def _named(client, field: str) -> str:
    """The field as the page names it: by its form label (shopfloor.forms.field_label), HTML-escaped."""
    with client.application.test_request_context():
        return f"« {escape(field_label(field))} »"
