"""Plotly figures: titled, labelled, with baseline and live traces people can read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readiness.analysis.charts import distribution_figure, drift_heatmap, share_drifted_figure
from readiness.analysis.drift_overview import drift_overview
from readiness.core.profiles import build_reference, profile_frame
from readiness.core.records import FeatureSpec
from tests.drift_fixtures import DAYS, drifting_store


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    store = drifting_store(f"sqlite:///{tmp_path_factory.mktemp('charts') / 'c.db'}")
    return drift_overview(store, store.get_model("shop"), window="day", multivariate=False)


def test_numeric_distribution_is_a_histogram_of_equal_bars_holding_every_row(overview):
    figure = distribution_figure(overview.reference, overview.current, "amount")
    assert figure.layout.title.text == "amount: baseline vs live distribution"
    assert [trace.name for trace in figure.data] == ["Baseline", "Live"]
    assert figure.layout.yaxis.title.text == "Share of rows" and figure.layout.yaxis.tickformat == ".0%"
    for trace in figure.data:
        assert len(trace.x) == 40 and max(trace.width) == pytest.approx(min(trace.width))
        assert sum(trace.y) == pytest.approx(1.0)  # every row is in a bar


@pytest.mark.parametrize("draw", ["crowded_score", "heavy_tail", "constant", "shifted_away"])
def test_distribution_bars_cover_the_data_and_the_axis_stays_sane(draw):
    """A score crowded near 0 once drew density spikes up to 3e14 and no visible bars."""
    rng = np.random.default_rng(1)
    base, live = {
        "crowded_score": (rng.beta(0.05, 20, 5000), rng.beta(0.05, 15, 5000)),
        "heavy_tail": (rng.standard_t(1.2, 5000), rng.standard_t(1.2, 5000)),
        "constant": (np.full(5000, 3.0), np.full(5000, 3.0)),
        "shifted_away": (rng.normal(0, 1, 5000), rng.normal(500, 1, 5000)),
    }[draw]
    reference = build_reference(pd.DataFrame({"v": base}), [FeatureSpec("v", "numeric")])
    figure = distribution_figure(reference, profile_frame(pd.DataFrame({"v": live}), reference), "v")
    for trace, values in zip(figure.data, (base, live), strict=True):
        y = np.asarray(trace.y, dtype=float)
        assert sum(y) == pytest.approx(1.0) and y.max() <= 1.0 + 1e-9
        if trace.width is not None:  # equal bars over the central 99% of both sides
            x, half = np.asarray(trace.x, dtype=float), np.asarray(trace.width, dtype=float) / 2
            inside = (values >= (x - half).min()) & (values <= (x + half).max())
            assert inside.mean() >= 0.98
            assert (y > 0.001).sum() >= 1


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
