"""Settings from the environment are read once at start: a bad one stops the app and the CLI with its name."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from readiness.cli import EXIT_BAD_INPUT, main
from readiness.config import check_settings
from readiness.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
BAD = [
    ("READINESS_DATABASE_URL", "not a url at all", "is not a database URL"),
    ("READINESS_MAX_UPLOAD_MB", "abc", "not a positive number of megabytes"),
    ("READINESS_MAX_UPLOAD_MB", "inf", "not a positive number of megabytes"),
    ("READINESS_EARLIEST_TIMESTAMP", "yesterday-ish", "Cannot read READINESS_EARLIEST_TIMESTAMP"),
    ("READINESS_MAX_HOURS_AHEAD", "soon", "Cannot read"),
    ("READINESS_ROLES_FILE", "/nonexistent/roles.toml", "cannot be read"),
    ("READINESS_AUTO_DEMO", "yes", "is not 0 or 1"),
]


def test_the_defaults_are_good(monkeypatch):
    for name, _, _ in BAD:
        monkeypatch.delenv(name, raising=False)
    check_settings()


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_setting_is_named_at_start(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        check_settings()
    assert name in str(caught.value)


@pytest.mark.parametrize(("name", "value", "message"), BAD[1:3])
def test_the_cli_stops_with_exit_2_and_the_settings_name(monkeypatch, capsys, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    assert main(["--database", f"sqlite:///{tmp_path / 'x.db'}", "models"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert name in err and message in err and err.count("\n") == 1


def test_the_app_stops_with_the_settings_name_before_opening_anything(monkeypatch, tmp_path):
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "-5")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert "READINESS_MAX_UPLOAD_MB='-5' is not a positive number" in at.error[0].value.replace("\\", "")
    assert not (tmp_path / "app.db").exists()
