"""A SHOPFLOOR_* value that cannot be used stops the start with a message naming the variable."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from shopfloor import create_app
from shopfloor.cli import main
from shopfloor.config import ConfigError

BAD_VALUES = [
    ("SHOPFLOOR_SESSION_IDLE_HOURS", "huit"),
    ("SHOPFLOOR_SESSION_IDLE_HOURS", "nan"),
    ("SHOPFLOOR_SESSION_IDLE_HOURS", "0"),
    ("SHOPFLOOR_UPLOAD_MAX_BYTES", "10MB"),
    ("SHOPFLOOR_UPLOAD_MAX_BYTES", "-3"),
    ("SHOPFLOOR_EXPIRY_WARNING_DAYS", "30j"),
    ("SHOPFLOOR_SECURE_COOKIES", "yes"),
    ("SHOPFLOOR_BASE_URL", "shopfloor.local"),
    ("SHOPFLOOR_BASE_URL", "ftp://shopfloor.local"),
    ("SHOPFLOOR_BASE_URL", "https://shopfloor.local/?x=1"),
    ("SHOPFLOOR_PUBLIC_URL", "atelier.example.org"),
    ("SHOPFLOOR_DATABASE_URL", "mysql://root@db/shopfloor"),
    ("SHOPFLOOR_DATABASE_URL", "not a url"),
    ("SHOPFLOOR_MODULES", "modules.stok"),
    ("SHOPFLOOR_MODULES", "shopfloor.clock"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_a_bad_value_stops_the_command_naming_the_variable_and_writes_nothing(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv("SHOPFLOOR_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Configuration : {variable}")
    assert "Traceback" not in result.output
    assert not (tmp_path / "instance" / "shopfloor.db").exists()


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES[:4])
def test_the_app_factory_refuses_it_too(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})


def test_good_values_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_SESSION_IDLE_HOURS", "0,5")
    monkeypatch.setenv("SHOPFLOOR_UPLOAD_MAX_BYTES", "2048")
    monkeypatch.setenv("SHOPFLOOR_SECURE_COOKIES", "1")
    monkeypatch.setenv("SHOPFLOOR_BASE_URL", "https://atelier.example.fr/shopfloor/")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 1800
    assert app.config["UPLOAD_MAX_BYTES"] == 2048
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["BASE_URL"] == "https://atelier.example.fr/shopfloor"


def test_the_public_url_wins_over_its_older_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_BASE_URL", "http://ancien.example.org")
    monkeypatch.setenv("SHOPFLOOR_PUBLIC_URL", "https://atelier.example.org")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["BASE_URL"] == "https://atelier.example.org"
