"""Plotly figures: titled, labelled, with baseline and live traces people can read."""

from __future__ import annotations

import pytest

from readiness.analysis.charts import distribution_figure, drift_heatmap, share_drifted_figure
from readiness.analysis.drift_overview import drift_overview
from tests.drift_fixtures import DAYS, drifting_store


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    store = drifting_store(f"sqlite:///{tmp_path_factory.mktemp('charts') / 'c.db'}")
    return drift_overview(store, store.get_model("shop"), window="day", multivariate=False)


def test_numeric_distribution_is_a_density_histogram_of_both_sides(overview):
    figure = distribution_figure(overview.reference, overview.current, "amount")
    assert figure.layout.title.text == "amount: baseline vs live distribution"
    assert [trace.name for trace in figure.data] == ["Baseline", "Live"]
    assert figure.layout.yaxis.title.text.startswith("Density")
    for trace in figure.data:
        assert 3 <= len(trace.x) <= 40
        total = sum(y * w for y, w in zip(trace.y, trace.width, strict=True))
        assert total == pytest.approx(1.0, abs=0.05)  # inner bins hold nearly every row


def test_categorical_distribution_shows_shares_with_other_and_unseen(overview):
    figure = distribution_figure(overview.reference, overview.current, "region")
    baseline, live = figure.data
    assert list(baseline.x[:4]) == ["north", "south", "east", "west"]  # most frequent first
    assert list(baseline.x[-2:]) == ["(other baseline categories)", "(unseen in baseline)"]
    assert sum(baseline.y) == pytest.approx(1.0)
    assert sum(live.y) == pytest.approx(1.0)
    assert figure.layout.yaxis.tickformat == ".0%"


def test_heatmap_has_a_row_per_column_and_a_cell_per_window(overview):
    figure = drift_heatmap(overview)
    heat = figure.data[0]
    assert len(heat.y) == 5 and len(heat.x) == DAYS
    assert heat.y[0] == "amount"
    assert figure.layout.title.text.startswith("When did drift start?")
    assert figure.layout.xaxis.title.text == "Day (UTC)"
    assert figure.layout.yaxis.title.text == "Column"


def test_share_drifted_has_the_dataset_line(overview):
    figure = share_drifted_figure(overview)
    assert len(figure.data[0].x) == DAYS
    assert max(figure.data[0].y) == pytest.approx(0.2)  # one of five columns
    assert figure.layout.yaxis.tickformat == ".0%"
