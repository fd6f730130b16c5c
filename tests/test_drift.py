"""Column drift: default tests, sample-size-aware verdicts, corrections, calibration, reports."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bench.bench_drift_stats import known_shift
from readiness.core import drift_stats as ds
from readiness.core.drift import (
    DISTANCE_THRESHOLDS,
    METHODS,
    NUMERIC_ONLY,
    CalibrationError,
    DriftOptions,
    DriftOptionsError,
    calibrate_thresholds,
    column_drift,
    default_method,
    drift_between_frames,
    floor_level,
    noise_floor,
)
from readiness.core.profiles import build_reference, merge_all, profile_frame
from readiness.core.records import FeatureSpec
from readiness.errors import ReadinessError, SchemaMismatchError

SETTINGS = settings(max_examples=25, deadline=None)


# --------------------------------------------------------------------------- synthetic data


def _names(k: int) -> np.ndarray:
    return np.array([f"k{j:03d}" for j in range(k)], dtype=object)


def _zipf(k: int, a: float) -> np.ndarray:
    w = 1 / np.arange(1, k + 1) ** a
    return w / w.sum()


SPECS = [FeatureSpec(f"n{i}", "numeric") for i in range(10)] + [
    FeatureSpec(f"c{i}", "categorical") for i in range(5)
]
SHIFTED = {"n0", "n1", "n2", "n3", "c0", "c1"}


def _synthetic(n: int, rng: np.random.Generator, shifted: bool = False) -> pd.DataFrame:
    """10 numeric + 5 categorical columns; ``shifted`` moves n0-n2 by 0.5 std, scales n3, changes c0, c1.

    The statistics bench's known-shift set (one generator for both). c3 has 200 categories and
    never shifts: at 2k rows its Jensen-Shannon distance from sampling noise alone is above 0.1.
    """
    return known_shift(n, rng, shifted)


# --------------------------------------------------------------------------- the headline properties


@pytest.mark.parametrize("n", [2_000, 5_000, 10_000, 100_000, 1_000_000])
def test_exactly_the_shifted_columns_are_flagged(n):
    rng = np.random.default_rng(n)
    reference_frame, current_frame = _synthetic(n, rng), _synthetic(n, rng, shifted=True)
    report = drift_between_frames(reference_frame, current_frame, SPECS)
    assert set(report.drifted_columns) == SHIFTED
    assert report.n_drifted == 6 and report.n_analyzed == 15 and report.share_drifted == pytest.approx(0.4)
    assert not report.dataset_drifted
    assert {c.method for c in report.columns} == {"ks_chisquare", "chisquare"}
    assert all(c.explanation.startswith("Drifted" if c.drifted else "Steady") for c in report.columns)
    cutoff = drift_between_frames(reference_frame, current_frame, SPECS, DriftOptions(rule="cutoff"))
    assert set(cutoff.drifted_columns) == SHIFTED
    assert {c.method for c in cutoff.columns} == {"wasserstein", "jensenshannon"}
    # from profiles alone (no raw values) the verdicts are the same
    reference = build_reference(reference_frame, SPECS)
    binned = column_drift(reference, profile_frame(current_frame, reference))
    assert set(binned.drifted_columns) == SHIFTED
    assert not any(c.exact for c in binned.columns)


def test_no_drift_stream_raises_few_alarms():
    rng = np.random.default_rng(2024)

    def frame(n: int) -> pd.DataFrame:
        data = _synthetic(n, rng)
        data["n10"] = rng.integers(0, 3, n).astype(float)
        data["n11"] = (rng.random(n) < 0.2).astype(float)
        data["c5"] = _names(50)[rng.choice(50, n, p=_zipf(50, 1.2))]
        data["c6"] = _names(200)[rng.integers(0, 200, n)]
        data["c7"] = _names(3)[rng.choice(3, n, p=[0.8, 0.15, 0.05])]
        return data

    specs = (
        SPECS
        + [FeatureSpec("n10", "numeric"), FeatureSpec("n11", "numeric")]
        + [FeatureSpec(f"c{i}", "categorical") for i in (5, 6, 7)]
    )
    reference = build_reference(frame(6000), specs)
    flagged = 0
    for _ in range(50):
        window = profile_frame(frame(int(rng.integers(1000, 2001))), reference)
        flagged += column_drift(reference, window).n_drifted > 0
    assert flagged / 50 <= 0.05


def test_noise_floor_stops_sampling_noise_alarms_on_many_categories():
    rng = np.random.default_rng(7)
    a, b = _synthetic(2000, rng), _synthetic(2000, rng)
    spec = [FeatureSpec("c3", "categorical")]
    cutoff = DriftOptions(rule="cutoff")
    report = drift_between_frames(a, b, spec, cutoff)
    c3 = report["c3"]
    assert c3.method == "jensenshannon" and c3.statistic >= 0.1  # what a fixed threshold would flag
    assert c3.noise_floor > c3.statistic and not c3.drifted
    assert "sampling noise" in c3.explanation
    assert drift_between_frames(a, b, spec, replace(cutoff, noise_floor=False))["c3"].drifted
    assert drift_between_frames(a, b, spec)["c3"].method == "chisquare"  # the default rule


@pytest.mark.parametrize(("n_ref", "n_cur"), [(600, 600), (2_000, 2_000), (50_000, 200), (50_000, 5_000)])
def test_chi_square_with_rare_categories_pooled_holds_its_level(n_ref, n_cur):
    """200 categories, most of them rare: without pooling the chi-square p-values would be too small."""
    rng = np.random.default_rng(n_ref + n_cur)
    p = _zipf(200, 0.8)
    values = [
        ds.chi_square(*ds.pool_rare(rng.multinomial(n_ref, p), rng.multinomial(n_cur, p))).p_value
        for _ in range(3000)
    ]
    assert 0.035 <= np.mean(np.array(values) < 0.05) <= 0.065
    assert np.mean(np.array(values) < 0.01) <= 0.018


def test_noise_floor_quantile_and_level():
    ref, cur = np.array([500, 300, 200]), np.array([500, 300, 200])
    rng = np.random.default_rng(0)
    shares = [0.5, 0.3, 0.2]
    draws = ds.total_variation(rng.multinomial(1000, shares, 20_000), rng.multinomial(1000, shares, 20_000))
    for level in (0.99, 0.999):
        floor = noise_floor(ds.total_variation, ref, cur, reps=400, level=level, seed=1)
        assert floor == pytest.approx(np.quantile(draws, level), rel=0.2)
    assert floor_level(DriftOptions(), 1) == 0.99
    assert floor_level(DriftOptions(correction="none"), 20) == 0.99
    assert floor_level(DriftOptions(correction="bonferroni"), 10) == pytest.approx(0.999)


# --------------------------------------------------------------------------- method choice


@pytest.mark.parametrize(
    ("values", "kind", "small", "large"),
    [
        (np.arange(100.0), "numeric", "ks", "wasserstein"),
        (np.arange(100.0) % 5, "numeric", "chisquare", "jensenshannon"),
        (np.arange(100.0) % 2, "numeric", "z", "jensenshannon"),
        (np.array(["a", "b", "c"] * 40, dtype=object), "categorical", "chisquare", "jensenshannon"),
        (np.array(["yes", "no"] * 50, dtype=object), "categorical", "z", "jensenshannon"),
    ],
)
def test_default_method(values, kind, small, large):
    reference = build_reference(pd.DataFrame({"v": values}), [FeatureSpec("v", kind)])
    assert default_method(reference["v"], 1000, rule="cutoff") == small
    assert default_method(reference["v"], 1001, rule="cutoff") == large
    tested = "ks_chisquare" if small == "ks" else "chisquare"
    assert default_method(reference["v"], 10) == default_method(reference["v"], 10**6) == tested
    frame = pd.DataFrame({"v": values})
    report = drift_between_frames(frame, frame, [FeatureSpec("v", kind)], DriftOptions(rule="cutoff"))
    assert report["v"].method == small and report["v"].psi == 0.0 and not report["v"].drifted
    report = drift_between_frames(frame, frame, [FeatureSpec("v", kind)])
    assert report["v"].method == tested and report["v"].effect == 0.0 and not report["v"].drifted


@pytest.mark.parametrize("method", METHODS)
def test_every_method_is_selectable_per_column(method):
    rng = np.random.default_rng(3)
    a = pd.DataFrame({"x": rng.integers(0, 2, 3000).astype(float), "c": _names(2)[rng.integers(0, 2, 3000)]})
    ones = rng.random(3000) < 0.8
    b = pd.DataFrame({"x": ones.astype(float), "c": _names(2)[ones.astype(int)]})
    specs = [FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical")]
    methods = {"x": method} if method in NUMERIC_ONLY else {"x": method, "c": method}
    report = drift_between_frames(a, b, specs, DriftOptions(methods=methods))
    for name in methods:
        result = report[name]
        assert result.method == method and result.statistic is not None and result.drifted
        assert (result.p_value is None) == (method in DISTANCE_THRESHOLDS)
        assert result.threshold == DISTANCE_THRESHOLDS.get(method, 0.05)


def test_raw_only_methods_need_the_frames():
    a = pd.DataFrame({"x": np.arange(500.0)})
    reference = build_reference(a, [FeatureSpec("x", "numeric")])
    options = DriftOptions(methods={"x": "anderson"})
    result = column_drift(reference, profile_frame(a + 100, reference), options)["x"]
    assert result.statistic is None and not result.drifted and result.note.startswith("needs raw values")
    with_raw = column_drift(reference, profile_frame(a + 100, reference), options, a, a + 100)["x"]
    assert with_raw.exact and with_raw.drifted


def test_small_frames_use_exact_statistics():
    rng = np.random.default_rng(4)
    a, b = pd.DataFrame({"x": rng.normal(size=800)}), pd.DataFrame({"x": rng.normal(0.2, 1, 600)})
    result = drift_between_frames(a, b, [FeatureSpec("x", "numeric")], DriftOptions(rule="cutoff"))["x"]
    expected = stats.ks_2samp(a["x"], b["x"])
    assert result.method == "ks" and result.exact
    assert (result.statistic, result.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    both = drift_between_frames(a, b, [FeatureSpec("x", "numeric")])["x"]
    assert (
        both.method == "ks_chisquare" and both.exact and both.statistic == pytest.approx(expected.statistic)
    )
    assert both.p_value <= min(1.0, 2 * expected.pvalue) + 1e-12  # the smaller of KS and chi-square, doubled
    options = DriftOptions(methods={"x": "wasserstein"})
    result = drift_between_frames(a, b, [FeatureSpec("x", "numeric")], options)["x"]
    assert result.statistic == pytest.approx(stats.wasserstein_distance(a["x"], b["x"]) / np.std(a["x"]))


def test_thresholds_are_overridable_per_column():
    rng = np.random.default_rng(5)
    a, b = _synthetic(3000, rng), _synthetic(3000, rng, shifted=True)
    options = DriftOptions(rule="cutoff", thresholds={"n0": 0.9, "c0": 0.5})
    report = drift_between_frames(a, b, SPECS, options)
    assert not report["n0"].drifted and report["n0"].threshold == 0.9
    assert not report["c0"].drifted and report["n1"].drifted
    report = drift_between_frames(
        a, b, SPECS, DriftOptions(min_effect_numeric=0.9, min_effect_categorical=0.5)
    )
    assert not report["n0"].drifted and report["n0"].effect_threshold == 0.9
    assert "under the 0.9 that counts" in report["n0"].explanation
    assert not report["c0"].drifted and not report["n1"].drifted and report["c1"].drifted  # c1 moves 56%


# --------------------------------------------------------------------------- user errors


def test_bad_options_are_refused_with_a_reason():
    reference = build_reference(_synthetic(500, np.random.default_rng(0)), SPECS)
    current = profile_frame(_synthetic(500, np.random.default_rng(1)), reference)
    with pytest.raises(DriftOptionsError, match="Unknown drift method"):
        DriftOptions(methods={"n0": "magic"})
    with pytest.raises(DriftOptionsError, match="correction"):
        DriftOptions(correction="holm")
    with pytest.raises(DriftOptionsError, match="finite numbers"):
        DriftOptions(thresholds={"n0": -1})
    with pytest.raises(DriftOptionsError, match="needs a numeric column"):
        column_drift(reference, current, DriftOptions(methods={"c0": "wasserstein"}))
    with pytest.raises(DriftOptionsError, match="binary column"):
        column_drift(reference, current, DriftOptions(methods={"c0": "z"}))
    with pytest.raises(DriftOptionsError, match="does not have"):
        column_drift(reference, current, DriftOptions(thresholds={"nope": 0.1}))
    other = build_reference(_synthetic(500, np.random.default_rng(2)), SPECS)
    with pytest.raises(SchemaMismatchError, match="another baseline"):
        column_drift(other, current)
    assert issubclass(DriftOptionsError, ReadinessError) and issubclass(CalibrationError, ReadinessError)


# --------------------------------------------------------------------------- odd columns


def test_empty_constant_and_all_missing_columns_never_stop_the_others():
    rng = np.random.default_rng(6)
    n = 3000
    a = pd.DataFrame(
        {
            "ok": rng.normal(size=n),
            "const": np.full(n, 4.0),
            "gone": rng.normal(size=n),
            "blank": pd.Series([None] * n, dtype=object),
            "cat": _names(3)[rng.integers(0, 3, n)],
        }
    )
    b = pd.DataFrame(
        {
            "ok": rng.normal(1, 1, n),
            "const": np.full(n, 4.0),
            "gone": np.full(n, np.nan),
            "blank": pd.Series([None] * n, dtype=object),
            "cat": _names(3)[rng.integers(0, 3, n)],
        }
    )
    specs = [
        FeatureSpec("ok", "numeric"),
        FeatureSpec("const", "numeric"),
        FeatureSpec("gone", "numeric"),
        FeatureSpec("blank", "categorical"),
        FeatureSpec("cat", "categorical"),
    ]
    report = drift_between_frames(a, b, specs)
    assert report.drifted_columns == ("ok",)
    assert report["const"].note == "constant column" and report["const"].statistic == 0.0
    assert report["gone"].note.startswith("all missing") and report["gone"].missing_share == 1.0
    assert report["blank"].note.startswith("all missing") and report["blank"].statistic is None
    assert report.n_analyzed == 3 and report.share_drifted == pytest.approx(1 / 3)
    empty = drift_between_frames(a, b.iloc[:0], specs)
    assert all(c.note.startswith("empty column") for c in empty.columns) and empty.n_drifted == 0
    moved = drift_between_frames(a, b.assign(const=np.where(np.arange(n) % 2, 4.0, 5.0)), specs)
    assert moved["const"].drifted  # a constant that stops being constant is drift


def test_unseen_categories_and_missing_share_are_reported():
    a = pd.DataFrame({"c": ["a", "b"] * 1000})
    b = pd.DataFrame({"c": ["a", "b"] * 900 + ["new"] * 150 + ["newer"] * 40 + [None] * 10})
    result = drift_between_frames(a, b, [FeatureSpec("c", "categorical")])["c"]
    assert result.unseen == ("new", "newer") and result.unseen_share == pytest.approx(190 / 1990)
    assert result.missing_share == pytest.approx(10 / 2000) and result.missing_share_reference == 0.0


# --------------------------------------------------------------------------- corrections and reports


def _small_tests(correction: str):
    rng = np.random.default_rng(8)
    a, b = _synthetic(600, rng), _synthetic(600, rng, shifted=True)
    return drift_between_frames(a, b, SPECS, DriftOptions(correction=correction))


def test_p_values_are_corrected_across_columns():
    reports = {c: _small_tests(c) for c in ("bh", "bonferroni", "none")}
    raw = [r.p_value for r in reports["none"].columns]
    assert all(r.threshold_on == "p_value" for r in reports["none"].columns)
    for correction in ("bh", "bonferroni"):
        report = reports[correction]
        by_name = {r.column: r for r in report.columns}
        names = [r.column for r in reports["none"].columns]
        adjusted = ds.adjust_p_values(raw, correction)
        assert [by_name[n].p_adjusted for n in names] == pytest.approx(list(adjusted))
        assert all(
            r.drifted == (r.p_adjusted < 0.05 and r.effect >= r.effect_threshold) for r in report.columns
        )
    assert reports["bonferroni"].n_drifted <= reports["bh"].n_drifted <= reports["none"].n_drifted
    assert set(reports["bh"].drifted_columns) >= SHIFTED and reports["bh"].n_drifted <= len(SHIFTED) + 1


def test_report_is_sorted_by_severity_and_judges_the_dataset():
    rng = np.random.default_rng(9)
    a, b = _synthetic(3000, rng), _synthetic(3000, rng, shifted=True)
    report = drift_between_frames(a, b, SPECS, DriftOptions(dataset_share=0.4))
    flags = [c.drifted for c in report.columns]
    assert flags == sorted(flags, reverse=True)
    drifted = [c.severity for c in report.columns if c.drifted]
    assert drifted == sorted(drifted, reverse=True) and min(drifted) >= 1
    assert report.dataset_drifted  # 6 of 15 columns >= 0.4
    assert not drift_between_frames(a, b, SPECS).dataset_drifted  # default share 0.5


def test_reports_and_options_pickle():
    """Streamlit's st.cache_data pickles what it caches."""
    options = DriftOptions(methods={"n0": "ks"}, thresholds={"c0": 0.2}, correction="bonferroni")
    assert pickle.loads(pickle.dumps(options)) == options
    assert hash(pickle.loads(pickle.dumps(options))) == hash(options)
    rng = np.random.default_rng(14)
    report = drift_between_frames(_synthetic(1500, rng), _synthetic(1500, rng), SPECS, options)
    again = pickle.loads(pickle.dumps(report))
    assert again.options == options and again.drifted_columns == report.drifted_columns


def test_merged_window_profiles_give_the_same_report():
    rng = np.random.default_rng(10)
    reference = build_reference(_synthetic(5000, rng), SPECS)
    days = [_synthetic(700, rng, shifted=True) for _ in range(4)]
    merged = merge_all(profile_frame(day, reference) for day in days)
    whole = profile_frame(pd.concat(days, ignore_index=True), reference)
    a, b = column_drift(reference, merged), column_drift(reference, whole)
    assert [(c.column, c.drifted) for c in a.columns] == [(c.column, c.drifted) for c in b.columns]
    assert [c.statistic for c in a.columns] == pytest.approx([c.statistic for c in b.columns], rel=1e-9)


# --------------------------------------------------------------------------- calibration


def test_calibrated_thresholds_are_mean_plus_three_std_of_chunk_statistics():
    rng = np.random.default_rng(11)
    frame = _synthetic(8000, rng)
    reference = build_reference(frame, SPECS)
    calibration = calibrate_thresholds(reference, frame, window=1000, options=DriftOptions(rule="cutoff"))
    c3 = next(c for c in calibration.columns if c.column == "c3")
    values = []
    for start in range(0, 8000, 1000):
        chunk, rest = frame.iloc[start : start + 1000], frame.drop(frame.index[start : start + 1000])
        values.append(
            ds.jensen_shannon(
                profile_frame(rest, reference)["c3"].vector(), profile_frame(chunk, reference)["c3"].vector()
            )
        )
    assert c3.method == "jensenshannon" and c3.n_chunks == 8
    assert c3.mean == pytest.approx(np.mean(values), rel=1e-12)
    assert c3.threshold == pytest.approx(np.mean(values) + 3 * np.std(values, ddof=1), rel=1e-12)
    assert len(calibration.columns) == 15

    options = calibration.options()
    assert options.statistic_thresholds["c3"] == c3.threshold and options.methods["c3"] == "jensenshannon"
    calm = column_drift(reference, profile_frame(_synthetic(1000, rng), reference), options)
    moved = column_drift(reference, profile_frame(_synthetic(1000, rng, shifted=True), reference), options)
    assert calm.n_drifted == 0
    assert set(moved.drifted_columns) == SHIFTED
    assert all(c.threshold_on == "statistic" for c in moved.columns)


def test_calibration_against_the_full_baseline_and_for_p_value_tests():
    rng = np.random.default_rng(12)
    frame = _synthetic(900, rng)
    reference = build_reference(frame, SPECS)
    cutoff = DriftOptions(rule="cutoff")
    full = calibrate_thresholds(reference, frame, window=300, options=cutoff, against="full")
    rest = calibrate_thresholds(reference, frame, window=300, options=cutoff)
    assert {c.method for c in full.columns} == {"ks", "chisquare", "z"}
    # a chunk is part of the full baseline, which pulls the statistic down
    assert all(f.mean <= r.mean + 1e-12 for f, r in zip(full.columns, rest.columns, strict=False))


def test_calibration_needs_two_chunks_and_the_baseline_frame():
    frame = _synthetic(1000, np.random.default_rng(13))
    reference = build_reference(frame, SPECS)
    with pytest.raises(CalibrationError, match="at most 500 rows"):
        calibrate_thresholds(reference, frame, window=600)
    with pytest.raises(CalibrationError, match="reference was built from 1000"):
        calibrate_thresholds(reference, frame.iloc[:800], window=100)
    with pytest.raises(CalibrationError, match="'rest' or 'full'"):
        calibrate_thresholds(reference, frame, window=100, against="chunks")


# --------------------------------------------------------------------------- properties


frames = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "n": st.sampled_from([30, 200, 1500, 4000]),
        "k": st.integers(1, 40),
    }
)


def _random_frame(p: dict) -> pd.DataFrame:
    rng = np.random.default_rng(p["seed"])
    n = p["n"]
    return pd.DataFrame(
        {
            "x": rng.normal(size=n) * rng.uniform(0.1, 10),
            "i": rng.integers(0, p["k"], n).astype(float),
            "c": _names(p["k"])[rng.integers(0, p["k"], n)],
        }
    )


RANDOM_SPECS = [FeatureSpec("x", "numeric"), FeatureSpec("i", "numeric"), FeatureSpec("c", "categorical")]


@SETTINGS
@given(p=frames)
def test_identical_samples_show_no_drift(p):
    frame = _random_frame(p)
    report = drift_between_frames(frame, frame, RANDOM_SPECS)
    assert report.n_drifted == 0
    for c in report.columns:
        assert c.statistic == pytest.approx(0.0, abs=1e-12) or c.method in ("chisquare", "z")


@SETTINGS
@given(p=frames)
def test_a_large_shift_is_flagged(p):
    frame = _random_frame(p)
    moved = frame.assign(x=frame["x"] + 3 * frame["x"].std() + 1, c="unseen")
    report = drift_between_frames(frame, moved, RANDOM_SPECS)
    assert {"x", "c"} <= set(report.drifted_columns)


def test_the_statistics_bench_meets_every_target():
    """bench/bench_drift_stats.py --check: false-alarm rates, detection rates and the 1M-row effect floor."""
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "bench" / "bench_drift_stats.py"
    done = subprocess.run([sys.executable, str(bench), "--check", "--quick"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| NO |" not in done.stdout and done.stdout.count("| yes |") == 7
