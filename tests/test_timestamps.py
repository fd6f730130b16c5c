"""Timestamps that cannot break a model: ambiguous dates refused, implausible ones refused, bad rows isolated."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness import Store, ingest_csv
from readiness.analysis.overview import portfolio_overview
from readiness.cli import main
from readiness.config import TimestampRange, timestamp_range
from readiness.core.mapping import ColumnMapping
from readiness.core.validate import timestamps
from readiness.errors import ConfigError, DataValidationError
from tests.factories import baseline_csv, live_frame, table_counts

NOW = pd.Timestamp("2026-12-02T12:00:00Z")


def parse(values: list[str], date_format: str = "", **kwargs) -> list[str]:
    parsed = timestamps(pd.Series(values, dtype=object), "ts", date_format, now=NOW, **kwargs)
    return parsed.dt.strftime("%Y-%m-%d %H:%M").tolist()


def test_iso_times_are_read_as_they_are():
    assert parse(["2026-02-01T14:05:00Z", "2026-02-13 08:00"]) == ["2026-02-01 14:05", "2026-02-13 08:00"]


def test_a_day_above_12_settles_the_whole_file_as_day_first():
    assert parse(["13/02/2026", "01/02/2026 10:30"]) == ["2026-02-13 00:00", "2026-02-01 10:30"]
    assert parse(["02/13/2026", "01/02/2026"]) == ["2026-02-13 00:00", "2026-01-02 00:00"]  # month first


def test_dates_that_read_two_ways_are_refused_with_both_readings():
    with pytest.raises(DataValidationError) as refused:
        parse(["01/02/2026", "03/04/2026"])
    message = str(refused.value)
    assert "'01/02/2026' at line 2 is 1 Feb 2026 day-first and 2 Jan 2026 month-first" in message
    assert "--date-format dayfirst or monthfirst" in message
    assert parse(["01/02/2026", "03/04/2026"], "dayfirst") == ["2026-02-01 00:00", "2026-04-03 00:00"]
    assert parse(["01/02/2026", "03/04/2026"], "monthfirst") == ["2026-01-02 00:00", "2026-03-04 00:00"]
    assert parse(["01.02.2026 14:00"], "%d.%m.%Y %H:%M") == ["2026-02-01 14:00"]
    assert parse(["05/05/2026"]) == ["2026-05-05 00:00"]  # both readings agree: nothing to ask


def test_a_file_mixing_day_first_and_month_first_is_refused():
    with pytest.raises(
        DataValidationError, match="mixes day-first and month-first dates: '13/02/2026' at line 2"
    ):
        parse(["13/02/2026", "02/13/2026"])


@pytest.mark.parametrize(
    ("value", "words"),
    [("9999-01-01T00:00:00Z", "more than 24 hours ahead of now"), ("1970-01-01", "before 1990-01-01")],
)
def test_implausible_times_are_refused_with_their_line(value, words):
    with pytest.raises(DataValidationError, match=f"'{value}' at line 3, {words}"):
        parse(["2026-11-01T00:00:00Z", value])


def test_the_plausible_range_is_configurable(monkeypatch):
    monkeypatch.setenv("READINESS_EARLIEST_TIMESTAMP", "1960-01-01")
    monkeypatch.setenv("READINESS_MAX_HOURS_AHEAD", "0.5")
    allowed = timestamp_range()
    assert allowed == TimestampRange(pd.Timestamp("1960-01-01", tz="UTC"), pd.Timedelta(minutes=30))
    assert parse(["1970-01-01"], allowed=allowed) == ["1970-01-01 00:00"]
    with pytest.raises(DataValidationError, match=r"more than 0\.5 hours ahead"):
        parse(["2026-12-02T13:00:00Z"], allowed=allowed)
    monkeypatch.setenv("READINESS_MAX_HOURS_AHEAD", "soon")
    with pytest.raises(ConfigError, match="READINESS_MAX_HOURS_AHEAD='soon'"):
        timestamp_range()


def test_an_ambiguous_or_year_9999_upload_writes_nothing_and_models_lists_every_model(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ts.db'}"
    store = Store.open(url)
    for name in ("alpha", "beta"):
        ingest_csv(store, name, "baseline", baseline_csv(300), "baseline.csv")
    ambiguous = live_frame(20)
    ambiguous["timestamp"] = [f"{(i % 12) + 1:02d}/{(i % 11) + 1:02d}/2026 10:{i:02d}" for i in range(20)]
    future = live_frame(20)
    future.loc[5, "timestamp"] = "9999-01-01T00:00:00Z"
    counts = table_counts(store)
    for name, frame in (("ambiguous.csv", ambiguous), ("future.csv", future)):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        assert main(["--database", url, "ingest", "--model", "alpha", "--kind", "live", str(path)]) == 2
    err = capsys.readouterr().err
    assert "read two ways" in err and "'9999-01-01T00:00:00Z' at line 7" in err
    assert table_counts(store) == counts  # nothing half-written
    dayfirst = [
        "ingest",
        "--model",
        "alpha",
        "--kind",
        "live",
        str(tmp_path / "ambiguous.csv"),
        "--date-format",
        "dayfirst",
    ]
    assert main(["--database", url, *dayfirst]) == 0
    capsys.readouterr()
    assert main(["--database", url, "models", "--json"]) == 0
    listed = {m["model"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"alpha", "beta"} and listed["alpha"]["predictions"] == 20
    assert listed["alpha"]["first_prediction"] == "2026-01-01T10:00:00Z"  # 01/01, read day-first


def test_one_model_that_cannot_be_assessed_does_not_hide_the_others(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    store = Store.open(url)
    for name in ("alpha", "beta"):
        ingest_csv(store, name, "baseline", baseline_csv(300), "baseline.csv")
    from readiness.analysis import overview

    real = overview.assess_model

    def broken(store, model, now=None):
        if model.name == "alpha":
            raise OverflowError("date value out of range")
        return real(store, model, now)

    monkeypatch.setattr(overview, "assess_model", broken)
    portfolio = portfolio_overview(store)
    by_name = {m.name: m for m in portfolio.models}
    assert (
        by_name["alpha"].readiness is None
        and "OverflowError: date value out of range" in by_name["alpha"].error
    )
    assert by_name["beta"].readiness is not None and by_name["beta"].error == ""
    assert main(["--database", url, "models"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "error" in out and "beta" in out
    assert main(["--database", url, "models", "--json"]) == 0
    listed = {m["model"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed["alpha"]["status"] is None and listed["alpha"]["error"].startswith(
        "Could not assess 'alpha'"
    )
    assert listed["beta"]["error"] == ""


def test_the_mapping_carries_the_date_format():
    assert ColumnMapping().date_format == ""


def test_a_labels_file_states_arrival_times_parsed_as_timestamps_with_empty_cells_unknown():
    from readiness.core.mapping import ColumnMapping
    from readiness.core.validate import validate_labels

    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "y": ["1", "0", "1"], "at": ["13/02/2026", None, "01/02/2026"]}
    )
    mapping = ColumnMapping(roles={"request_id": "id", "label": "y", "label_time": "at"})
    valid = validate_labels(frame, mapping, "binary", ["0", "1"])
    assert valid["arrived_at"].tolist()[0] == pd.Timestamp("2026-02-13")
    assert pd.isna(valid["arrived_at"].iloc[1])
    bad = frame.assign(at=["2026-02-13", "soon", None])
    with pytest.raises(DataValidationError, match=r"'at' has an unreadable time at line 3: 'soon'"):
        validate_labels(bad, mapping, "binary", ["0", "1"])
    future = frame.assign(at=["2026-02-13", "9999-01-01", None])
    with pytest.raises(DataValidationError, match="line 3"):
        validate_labels(future, mapping, "binary", ["0", "1"])


def test_a_year_9999_row_inserted_with_plain_sql_is_left_out_and_breaks_nothing(tmp_path, capsys):
    from sqlalchemy import text

    from readiness.analysis.drift_overview import drift_overview
    from readiness.analysis.performance_overview import performance_overview
    from tests.factories import live_csv

    url = f"sqlite:///{tmp_path / 'clock.db'}"
    store = Store.open(url)
    for name in ("alpha", "beta"):
        ingest_csv(store, name, "baseline", baseline_csv(300), "baseline.csv")
        ingest_csv(store, name, "live", live_csv(80), "live.csv")
    features = '{"amount": 1.0, "age": 30, "region": "north"}'
    with store.engine.begin() as conn:  # a service with a broken clock, writing past the upload checks
        for moment in ("9999-12-31 23:59:59", "1970-01-01 00:00:00"):
            conn.execute(
                text(
                    "INSERT INTO predictions (model_id, timestamp, prediction, features) VALUES (:m, :t, '1', :f)"
                ),
                {"m": store.get_model("alpha").id, "t": moment, "f": features},
            )
    assert main(["--database", url, "refresh"]) == 0
    out = capsys.readouterr().out
    assert "alpha: profiled 80 new prediction(s)" not in out  # already profiled at upload...
    assert "2 stored prediction(s) have a time before 1990-01-01" in out  # ...and the two are named
    alpha = store.get_model("alpha")
    assert drift_overview(store, alpha).n_current == 80
    assert performance_overview(store, alpha).total.n_rows == 80
    assert store.prediction_bounds(alpha.id)[1].year == 2026
    assert main(["--database", url, "models", "--json"]) == 0
    listed = {m["model"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"alpha", "beta"} and listed["alpha"]["error"] == ""
    assert listed["alpha"]["predictions"] == 80


def test_a_model_that_cannot_be_refreshed_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    from readiness.analysis import refresh

    url = f"sqlite:///{tmp_path / 'two.db'}"
    store = Store.open(url)
    for name in ("alpha", "beta"):
        ingest_csv(store, name, "baseline", baseline_csv(300), "baseline.csv")
    real = refresh.refresh_profiles

    def broken(store, model, **options):
        if model.name == "alpha":
            raise OverflowError("date value out of range")
        return real(store, model, **options)

    monkeypatch.setattr(refresh, "refresh_profiles", broken)
    assert main(["--database", url, "refresh"]) == 1
    captured = capsys.readouterr()
    assert "alpha: not refreshed: OverflowError: date value out of range" in captured.err
    assert "beta: profiled 0 new prediction(s)" in captured.out


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.from_regex(r"\A\s?\d{4}-[0-9A-Za-z:\-T ./]{0,14}\Z"), min_size=1, max_size=30),
    st.sampled_from(["13/02/2026", "02/13/2026", "03/04/2026", None]),
    st.integers(0, 29),
)
def test_date_order_of_year_first_times_is_settled_by_any_numeric_date_among_them(times, numeric, at):
    """Times that start with a year (valid ISO 8601 or not) say nothing of the order; one numeric date decides it."""
    from readiness.core.validate import DateOrder, date_order

    assert date_order(pd.Series(times, dtype="str")) == DateOrder()
    assert date_order(pd.Series([*times, None], dtype=object)) == DateOrder()
    if numeric is None:
        return
    mixed = [*times]
    mixed.insert(min(at, len(mixed)), numeric)
    order = date_order(pd.Series(mixed, dtype="str"))
    line = min(at, len(times)) + 2  # the header is line 1
    assert {
        "13/02/2026": order.day_first,
        "02/13/2026": order.month_first,
        "03/04/2026": order.either,
    }[numeric] == (line, numeric)
