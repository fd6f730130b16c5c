"""Plotly figures: titled, labelled, with baseline and live traces people can read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readiness.analysis.charts import (
    class_probability_figure,
    distribution_figure,
    drift_heatmap,
    share_drifted_figure,
)
from readiness.analysis.drift_overview import drift_overview
from readiness.core.profiles import build_reference, profile_frame
from readiness.core.records import FeatureSpec
from readiness.errors import SchemaMismatchError
from tests.drift_fixtures import DAYS, class_probability_store, drifting_store


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
    assert figure.layout.barmode == "group"  # side by side: overlaid, live bars hid the baseline's
    assert distribution_figure(overview.reference, overview.current, "amount").layout.barmode == "overlay"


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


# -- class probabilities (multiclass) ------------------------------------------------------

CLASSES = tuple(f"c{i:02d}" for i in range(10))


@pytest.fixture(scope="module")
def class_overview(tmp_path_factory):
    """Ten classes; from day 10 half of c09's probability moves to c07 (only those two drift)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('classes') / 'c.db'}"
    store = class_probability_store(url, CLASSES, moved=("c07", "c09"))
    return drift_overview(store, store.get_model("router"), window="day", multivariate=False)


def test_each_class_probability_is_a_drift_output_in_class_order(class_overview):
    outputs = class_overview.class_outputs()
    assert [o.label for o in outputs] == list(CLASSES)
    assert [o.drift.column for o in outputs] == [f"proba:{c}" for c in CLASSES]
    assert {o.label for o in outputs if o.drift.drifting_now} == {"c07", "c09"}
    # the drifting classes first, then the rest in class order, at most eight
    assert class_overview.classes_to_chart() == ("c07", "c09", "c00", "c01", "c02", "c03", "c04", "c05")
    assert class_overview.classes_to_chart(limit=3) == ("c07", "c09", "c00")


def test_a_class_probability_chart_is_baseline_vs_live_on_a_shared_axis_titled_with_its_verdict(
    class_overview,
):
    drifting = class_probability_figure(class_overview, "c07")
    steady = class_probability_figure(class_overview, "c01")
    assert drifting.layout.title.text.startswith("c07<br><sup>probability, baseline vs live: drifting since ")
    assert steady.layout.title.text == "c01<br><sup>probability, baseline vs live: steady</sup>"
    for figure, cls in ((drifting, "c07"), (steady, "c01")):
        assert [trace.name for trace in figure.data] == ["Baseline", "Live"]
        assert figure.layout.xaxis.title.text == f"Probability of {cls}"
        assert tuple(figure.layout.xaxis.range) == (0, 1)
        for trace in figure.data:  # the same 40 bars for every class, holding every row
            assert (
                len(trace.x) == 40
                and trace.x[0] == pytest.approx(0.0125)
                and sum(trace.y) == pytest.approx(1)
            )
    live_mean = [float(np.dot(f.data[1].x, f.data[1].y)) for f in (drifting, steady)]
    base_mean = [float(np.dot(f.data[0].x, f.data[0].y)) for f in (drifting, steady)]
    assert live_mean[0] > base_mean[0] + 0.02 and live_mean[1] == pytest.approx(base_mean[1], abs=0.01)


def test_a_class_without_probabilities_is_refused_with_the_classes_that_have_them(class_overview, overview):
    with pytest.raises(SchemaMismatchError, match=r"no probability for class 'c99'.*'c00', 'c01'"):
        class_probability_figure(class_overview, "c99")
    with pytest.raises(SchemaMismatchError, match="classes with probabilities: none"):
        class_probability_figure(overview, "north")  # a binary model's log has none
    assert overview.class_outputs() == () and overview.classes_to_chart() == ()
