"""A binary score no name announces is proposed from its values: probabilities a threshold splits as the prediction does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness import Store, ingest_csv
from readiness.analysis.ingest import ModelSpec, preview_upload, propose_upload_mapping
from readiness.cli import main
from readiness.core.mapping import ColumnMapping
from readiness.core.score_guess import _best_cut, guess_score

RNG = np.random.default_rng(11)


def scored(n: int = 600, threshold: float = 0.5, positive: str = "1", negative: str = "0") -> pd.DataFrame:
    """A binary model's rows: features, a probability named for its class, the prediction from it."""
    p = RNG.beta(2, 2, n).round(4)
    truth = np.where(RNG.random(n) < p, positive, negative)
    return pd.DataFrame(
        {
            "amount": RNG.gamma(2.0, 30.0, n).round(2),
            "share_paid": RNG.random(n).round(3),  # a feature in [0, 1] the prediction ignores
            "prob_benign": p,
            "predicted": np.where(p >= threshold, positive, negative),
            "diagnosis": truth,
        }
    )


def test_a_probability_named_for_its_class_is_proposed_as_the_score():
    frame = scored()
    guess = guess_score(frame, ColumnMapping(roles={"prediction": "predicted"}), "1")
    assert guess is not None and guess.column == "prob_benign" and guess.positive == "1"
    assert guess.agreement == 1.0 and guess.threshold == pytest.approx(0.5, abs=0.01)
    assert "'prob_benign' is proposed as the score (the probability of class '1')" in guess.reason


def test_a_custom_threshold_and_text_classes_are_found_too():
    frame = scored(threshold=0.3, positive="fraud", negative="ok")
    guess = guess_score(frame, ColumnMapping(roles={"prediction": "predicted"}), "fraud")
    assert guess is not None and guess.column == "prob_benign"
    assert guess.threshold == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda f: f.assign(prob_benign=1 - f["prob_benign"]), "the other class's probability"),
        (lambda f: f.assign(prob_benign=f["prob_benign"] * 100), "a percentage is not a probability"),
        (lambda f: f.assign(prob_benign=RNG.random(len(f))), "unrelated to the prediction"),
        (lambda f: f.assign(prob_benign=f["prob_benign"].astype(str).where(f.index > 3, "high")), "text"),
        (lambda f: f.assign(prob_benign=(f["predicted"] == "1").astype(int)), "a 0/1 flag"),
        (lambda f: f.assign(copy=f["prob_benign"]), "two columns fit: ask"),
        (lambda f: f.head(10), "too few rows"),
    ],
)
def test_no_score_is_proposed_when_the_values_do_not_say_so(change, why):
    frame = change(scored())
    assert guess_score(frame, ColumnMapping(roles={"prediction": "predicted"}), "1") is None, why


def test_nothing_is_guessed_past_a_named_score_class_probabilities_or_a_non_binary_prediction():
    frame = scored()
    named = ColumnMapping(roles={"prediction": "predicted", "score": "share_paid"})
    assert guess_score(frame, named, "1") is None
    probabilities = ColumnMapping(roles={"prediction": "predicted", "proba:1": "share_paid"})
    assert guess_score(frame, probabilities, "1") is None
    three = frame.assign(predicted=RNG.choice(["a", "b", "c"], len(frame)))
    assert guess_score(three, ColumnMapping(roles={"prediction": "predicted"}), "a") is None
    assert guess_score(frame, ColumnMapping(roles={"prediction": "predicted"}), None) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60))
def test_the_best_cut_is_the_best_of_every_threshold(rows):
    x = np.array([v for v, _ in rows])
    y = np.array([b for _, b in rows])
    threshold, agreement = _best_cut(x, y)
    assert agreement == pytest.approx(((x >= threshold) == y).mean())
    best = max(((x >= t) == y).mean() for t in np.unique(x))
    assert agreement == pytest.approx(best)


def test_a_baseline_and_a_live_log_of_a_model_get_the_score_they_carry(tmp_path):
    """Proposed for the baseline's own positive class, then for the model's, and stored as the score."""
    baseline, live = scored(800), scored(500)
    baseline_mapping, _, score = propose_upload_mapping(baseline.astype(str), "baseline")
    assert score is not None and baseline_mapping.column_for("score") == "prob_benign"
    assert baseline_mapping.column_for("label") == "diagnosis"
    live = live.drop(columns="diagnosis").assign(
        timestamp=pd.date_range("2026-11-01", periods=len(live), freq="h").strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert propose_upload_mapping(live.astype(str), "live", positive_class="0")[2] is None  # not P(0)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    base_csv, live_csv = tmp_path / "b.csv", tmp_path / "l.csv"
    baseline.to_csv(base_csv, index=False)
    live.to_csv(live_csv, index=False)
    assert main(["--database", url, "ingest", "--model", "cancer", "--kind", "baseline", str(base_csv)]) == 0
    store = Store.open(url)
    preview = preview_upload(live_csv.read_bytes(), "live", "l.csv", (), "1")
    assert preview.score_guess is not None and preview.mapping.column_for("score") == "prob_benign"
    result = ingest_csv(store, "cancer", "live", preview.source, "l.csv", preview.mapping)
    assert result.rows_added == len(live)
    model = store.get_model("cancer")
    assert store.active_baseline(model.id).feature_names == ("amount", "share_paid")


def test_the_cli_says_which_column_it_took_as_the_score_and_how_to_change_it(tmp_path, capsys):
    path = tmp_path / "b.csv"
    scored(400).to_csv(path, index=False)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["--database", url, "ingest", "--model", "m", "--kind", "baseline", str(path)]) == 0
    out = capsys.readouterr().out
    assert "'prob_benign' is proposed as the score" in out and "--map prob_benign=ignore" in out
    # a positive class given by hand that the column is not the probability of: no score proposed
    other = tmp_path / "o.db"
    given = ["--task", "binary", "--positive-class", "0"]
    code = main(
        [
            "--database",
            f"sqlite:///{other}",
            "ingest",
            "--model",
            "m",
            "--kind",
            "baseline",
            str(path),
            *given,
        ]
    )
    assert code == 0 and "proposed as the score" not in capsys.readouterr().out


def test_a_new_model_given_the_other_positive_class_gets_no_score_proposed(tmp_path):
    """ingest_csv without a mapping proposes one for the model it is told to create, not the file's guess."""
    baseline = scored(300)
    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    data = baseline.to_csv(index=False).encode()
    for name, positive in (("zero", "0"), ("one", "1")):
        ingest_csv(store, name, "baseline", data, "b.csv", new_model=ModelSpec("binary", positive))
    zero, one = (store.active_baseline(store.get_model(name).id) for name in ("zero", "one"))
    assert "prob_benign" in zero.feature_names  # not P("0"): left a feature, never an inverted score
    assert "prob_benign" not in one.feature_names
