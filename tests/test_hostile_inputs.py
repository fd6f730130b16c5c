"""Inputs a careless or hostile user sends: each is refused with a message that names it, never a traceback."""

from __future__ import annotations

import pytest

from readiness.config import max_upload_bytes
from readiness.core.criteria import parse_criterion
from readiness.core.csvread import read_csv_bytes
from readiness.core.records import validate_model_name
from readiness.errors import ConfigError, CriterionError, FileFormatError, ModelConfigError


@pytest.mark.parametrize("name", ["fraud\n", "fraud\r\n", " fraud", "", "-fraud", "a" * 101])
def test_model_names_with_a_trailing_newline_or_other_junk_are_refused(name):
    with pytest.raises(ModelConfigError, match="is not allowed"):
        validate_model_name(name)


@pytest.mark.parametrize("count", ["99999999999999999999", "3000000000", "1000000001"])
def test_a_minimum_label_count_beyond_any_backends_integer_is_refused(count):
    with pytest.raises(CriterionError, match="use a whole number from 0 to 1,000,000,000"):
        parse_criterion(f"recall >= 0.8 min {count}")


@pytest.mark.parametrize("value", ["abc", "inf", "1e400", "nan", "0", "-5"])
def test_an_unusable_upload_limit_is_a_config_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", value)
    with pytest.raises(ConfigError, match=rf"READINESS_MAX_UPLOAD_MB='{value}' is not a positive number"):
        max_upload_bytes()


def test_a_20_mb_field_is_named_as_such_not_as_an_unclosed_quote():
    data = b"a,b\n1," + b"x" * (20 * 1024 * 1024) + b"\n2,3\n"
    with pytest.raises(FileFormatError, match=r"big.csv line 2 has a field over 128 kB"):
        read_csv_bytes(data, "big.csv")


def test_the_drift_sentence_says_why_the_classifier_did_not_run_on_a_small_log(sqlite_store):
    from readiness import ingest_csv
    from readiness.analysis.drift_overview import drift_overview
    from tests.factories import baseline_csv, live_csv

    ingest_csv(sqlite_store, "small", "baseline", baseline_csv(300), "b.csv")
    ingest_csv(sqlite_store, "small", "live", live_csv(30), "l.csv")
    text = drift_overview(sqlite_store, sqlite_store.get_model("small")).dataset_text()
    assert "nan" not in text.lower()
    assert "The classifier check did not run (insufficient data: 300 reference and 30 current rows" in text


@pytest.mark.parametrize("days", [-1, 3651, 10**12])
def test_an_attestation_valid_for_an_absurd_number_of_days_is_refused_not_overflowed(days):
    from datetime import date

    from readiness.core.checklist import new_attestation
    from readiness.errors import ChecklistError

    with pytest.raises(ChecklistError, match="Use a whole number of days from 0 to 3,650"):
        new_attestation("model_card", "Ana", "https://wiki.example.com/card", date(2026, 12, 1), days)


def test_a_file_with_more_columns_than_a_log_has_is_refused():
    """200,000 columns: refused by count (the duplicate-name check is linear; a quadratic one took hours)."""
    from readiness.core.tablefile import read_table_bytes

    header = ",".join(f"c{i}" for i in range(200_000)).encode()
    with pytest.raises(FileFormatError, match=r"wide.csv has 200,000 columns, over the 5,000"):
        read_table_bytes(header + b"\n" + b"1," * 199_999 + b"1\n", "wide.csv")
