"""Equipment register import from CSV: all lines or none, errors listed line by line."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from modules.maintenance.importer import import_equipment
from modules.maintenance.models import Equipment
from shopfloor.errors import ValidationError

GOOD = ("code;name;level;parent;technologies;criticality;maker;model;energies\n"
        "L1;Ligne d'assemblage 1;line;;;B;;;\n"
        "CONV-01;Convoyeur;equipment;L1;mecanique,electrique;A;Interroll;BM 8400;electrique,gravite\n").encode()


def test_import_creates_the_tree(db, people):
    created, _ = import_equipment(db, people.tutor, GOOD, "parc.csv")
    db.commit()
    assert created == 2
    conv = db.scalar(select(Equipment).where(Equipment.code == "CONV-01"))
    assert conv.parent.code == "L1" and conv.energies == ["electrique", "gravite"] and conv.criticality == "A"


def test_import_lists_every_bad_line_and_writes_nothing(db, people):
    bad = GOOD + "MOT-01;Moteur;equipment;;;Z;;;\n;Sans code;equipment;;;A;;;\nX;Pompe;equipment;;;A;;;nucleaire\n".encode()
    with pytest.raises(ValidationError) as error:
        import_equipment(db, people.tutor, bad, "parc.csv")
    db.rollback()
    message = error.value.message
    assert "Ligne 4" in message and "criticality" in message
    assert "Ligne 5" in message and "code" in message and "Ligne 6" in message and "nucleaire" in message
    assert db.scalar(select(func.count(Equipment.id))) == 0
