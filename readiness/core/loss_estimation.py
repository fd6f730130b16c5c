"""Label-free MAE and RMSE for regression models: direct loss estimation.

While labels are delayed, a model of the *error* fitted on the baseline's labelled rows
predicts how wrong each live prediction is likely to be from its features and the predicted
value (the idea NannyML calls DLE):

1. :func:`fit_loss_model` fits two models on the baseline: ``E[|y - yhat| | x, yhat]`` and
   ``E[(y - yhat)^2 | x, yhat]``. Each is a Poisson GLM with a log link (sklearn's
   ``PoissonRegressor``) on a one-hot basis: the prediction and every numeric feature cut at
   their baseline quantiles (``QUANTILE_BINS``, fewer when the baseline has under
   ``ROWS_PER_BIN`` rows a bin, plus a bin for missing), every categorical feature's
   ``TOP_CATEGORIES`` commonest values seen at least ``ROWS_PER_BIN / 5`` times (plus "other"
   and missing); past its 5% and
   95% quantiles a numeric input also gets a slope, carried at most ``TAIL_CAP`` times the
   5-95% range further, so rows beyond the baseline's range continue its outer trend instead
   of taking the outermost bin's level. The errors are thereby a product of one factor per
   input: heteroscedasticity along any one feature or the prediction is captured; interactions
   are not. The model is a few hundred numbers, stored as
   JSON with the baseline, never pickled. It is fitted on a random ``FIT_SHARE`` of the rows
   (at most ``MAX_FIT_ROWS``) and checked on the rest, which gives the constants the
   intervals need. A baseline with fewer than ``MIN_ROWS`` labelled rows gets the constant
   model (the baseline's mean error for every row), with a note.
2. :func:`aggregate_window` turns a window's rows into a mergeable :class:`LossAggregate`:
   the sums of the predicted absolute and squared errors and of their squares.
3. :func:`estimate_from_aggregate` gives ``mae`` and ``rmse`` with 95% intervals for the
   *realized* value once labels arrive: ``value +- z * (se_rows + se_model)``, where

   * ``se_rows``: given its inputs, each row's error varies around the predicted one; on the
     held-out baseline rows that variance is ``c`` times the squared prediction (``c_abs``
     for ``|e|``, ``c_sq`` for ``e^2``), and rows are independent;
   * ``se_model``: the error model's own bias, shared by every window, is its relative error
     on the held-out rows (bias and sampling error combined) times the estimate.

   RMSE is the square root of the estimated mean squared error, its interval the square
   roots of that one's bounds.

Covariate shift (inputs move to where errors differ) is what this captures; concept shift
(the same inputs now lead to different truths) is invisible without labels.

>>> import pandas as pd
>>> model = fit_loss_model(pd.DataFrame(index=range(3)), [1.0, 2.0, 3.0], [1.5, 2.0, 2.0], ())
>>> model.method
'constant'
>>> est = estimate_from_aggregate(aggregate_window(model, pd.DataFrame(index=range(2)), [1.0, 5.0]))
>>> round(est["mae"].value, 3)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.core.lazy import lazy_module
from readiness.core.metrics import MetricValue
from readiness.core.records import FeatureSpec
from readiness.errors import EstimationError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

METRICS = ("mae", "rmse")
MIN_ROWS = 200
QUANTILE_BINS = 20
PREDICTION_BINS = 20
TOP_CATEGORIES = 20
ROWS_PER_BIN = 50  # fewer baseline rows than this per bin (or a fifth of it per category) make coarser inputs
FIT_SHARE = 0.7
MAX_FIT_ROWS = 50_000
NEWTON_COLUMNS = (
    128  # up to this many basis columns the GLM is solved by Newton's method (L-BFGS: 4 s for 221 rows)
)
ALPHA = 1e-4  # the GLM's L2 penalty (per row), enough to keep empty or rare bins near the mean
SEED = 0
TAIL_QUANTILES = (0.05, 0.95)
TAIL_CAP = 1.0  # a tail slope is carried at most one 5-95% range past the baseline's tail quantile
DEFAULT_LEVEL = 0.95
PREDICTION = "\x00prediction"  # the basis key of the predicted value (no feature name can be it)
METHOD = (
    "direct loss estimation: per-row expected error from a log-linear model fitted on the baseline; normal "
    "interval from the rows' error variance plus the model's held-out relative error"
)
INSUFFICIENT = "insufficient data: the window has no rows with a numeric prediction"


@dataclass(frozen=True)
class Input:
    """One input of the error model: numeric cut at ``edges`` or categorical with kept ``categories``."""

    name: str
    kind: str  # "numeric" | "categorical"
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    tails: tuple[float, ...] = ()  # numeric: the (low, high) quantiles where the tail slopes start

    @property
    def width(self) -> int:
        """Columns of its block: the bins (or categories plus "other"), missing, and a numeric input's two tail slopes."""
        if self.kind == "numeric":
            return self.bins + (2 if self.tails else 0)
        return len(self.categories) + 2

    @property
    def bins(self) -> int:
        """One-hot columns of its block (bins or categories, "other", missing)."""
        return len(self.edges) + 2 if self.kind == "numeric" else len(self.categories) + 2

    def slopes(self, values: pd.Series) -> np.ndarray:
        """How far past its tail quantiles each value lies, in units of the range between them (capped at TAIL_CAP).

        Lets the error model carry the trend of the baseline's outer rows a bounded way
        beyond them, instead of holding the outermost bin's level flat.
        """
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        low, high = self.tails
        scale = max(high - low, 1e-12)
        above = np.clip((x - high) / scale, 0.0, TAIL_CAP)
        below = np.clip((low - x) / scale, 0.0, TAIL_CAP)
        return np.nan_to_num(np.stack([above, below], axis=1), nan=0.0)

    def columns(self, values: pd.Series) -> np.ndarray:
        """The column (within its block) each value falls in."""
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            index = np.searchsorted(np.asarray(self.edges), x, side="right")
            return np.where(np.isnan(x), self.bins - 1, index)
        position = {c: i for i, c in enumerate(self.categories)}
        text = values.map(str, na_action="ignore")
        index = text.map(position).fillna(len(self.categories)).to_numpy(dtype=np.int64)
        return np.where(values.isna().to_numpy(), self.bins - 1, index)


@dataclass(frozen=True)
class LossModel:
    """The fitted error model: inputs, two coefficient vectors and the constants of the interval."""

    method: str  # "glm" | "constant"
    inputs: tuple[Input, ...]
    intercept_abs: float
    intercept_sq: float
    coef_abs: tuple[float, ...] = ()
    coef_sq: tuple[float, ...] = ()
    c_abs: float = 1.0  # Var(|e| | x) / E[|e| | x]^2 on held-out rows
    c_sq: float = 2.0  # Var(e^2 | x) / E[e^2 | x]^2 on held-out rows
    relative_abs: float = 0.0  # relative error of the summed |e| predictions on held-out rows
    relative_sq: float = 0.0  # and of the summed e^2 predictions
    n_baseline: int = 0
    note: str = ""
    kind: str = field(default="regression", init=False)

    def predict(self, features: pd.DataFrame, predictions: Any) -> tuple[np.ndarray, np.ndarray]:
        """Expected absolute and squared error of each row."""
        yhat = pd.Series(np.asarray(predictions, dtype=object).ravel(), index=features.index)
        if self.method == "constant":
            n = len(yhat)
            return np.full(n, math.exp(self.intercept_abs)), np.full(n, math.exp(self.intercept_sq))
        design = _design(self.inputs, features, yhat)
        eta_abs = self.intercept_abs + design @ np.asarray(self.coef_abs)
        eta_sq = self.intercept_sq + design @ np.asarray(self.coef_sq)
        return np.exp(np.clip(eta_abs, -700, 700)), np.exp(np.clip(eta_sq, -700, 700))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": self.kind,
            "method": self.method,
            "inputs": [
                {
                    "name": i.name,
                    "kind": i.kind,
                    "edges": list(i.edges),
                    "categories": list(i.categories),
                    "tails": list(i.tails),
                }
                for i in self.inputs
            ],
            "intercept_abs": self.intercept_abs,
            "intercept_sq": self.intercept_sq,
            "coef_abs": list(self.coef_abs),
            "coef_sq": list(self.coef_sq),
            "c_abs": self.c_abs,
            "c_sq": self.c_sq,
            "relative_abs": self.relative_abs,
            "relative_sq": self.relative_sq,
            "n_baseline": self.n_baseline,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossModel:
        """Read back what ``to_dict`` wrote."""
        try:
            inputs = tuple(
                Input(
                    str(i["name"]),
                    str(i["kind"]),
                    tuple(float(e) for e in i["edges"]),
                    tuple(str(c) for c in i["categories"]),
                    tuple(float(v) for v in i.get("tails", ())),
                )
                for i in data["inputs"]
            )
            model = cls(
                str(data["method"]),
                inputs,
                float(data["intercept_abs"]),
                float(data["intercept_sq"]),
                tuple(float(c) for c in data["coef_abs"]),
                tuple(float(c) for c in data["coef_sq"]),
                float(data["c_abs"]),
                float(data["c_sq"]),
                float(data["relative_abs"]),
                float(data["relative_sq"]),
                int(data["n_baseline"]),
                str(data.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EstimationError(
                f"Stored loss model cannot be read ({type(exc).__name__}: {exc}); refit it on the baseline."
            ) from exc
        width = sum(i.width for i in inputs)
        if model.method not in ("glm", "constant") or (
            model.method == "glm" and not (len(model.coef_abs) == len(model.coef_sq) == width)
        ):
            raise EstimationError(
                f"Stored loss model is malformed (method {model.method!r}, {len(model.coef_abs)} coefficients for "
                f"{width} basis columns). Refit it on the baseline."
            )
        return model


def fit_loss_model(
    features: pd.DataFrame, predictions: Any, labels: Any, specs: Sequence[FeatureSpec]
) -> LossModel:
    """Fit the expected absolute and squared error on the baseline's labelled rows (see the module docstring)."""
    yhat = pd.to_numeric(pd.Series(np.asarray(predictions, dtype=object).ravel()), errors="coerce")
    truth = pd.to_numeric(pd.Series(np.asarray(labels, dtype=object).ravel()), errors="coerce")
    if not len(yhat) == len(truth) == len(features):
        raise EstimationError(
            f"Baseline has {len(features)} feature rows, {len(yhat)} predictions and {len(truth)} labels; "
            "pass one of each per row."
        )
    keep = (yhat.notna() & truth.notna() & np.isfinite(yhat) & np.isfinite(truth)).to_numpy()
    error = (truth - yhat).to_numpy(dtype=float)[keep]
    frame = features.reset_index(drop=True)[keep].reset_index(drop=True)
    yhat = yhat[keep].reset_index(drop=True)
    if len(error) < MIN_ROWS:
        return _constant(error, f"baseline has {len(error)} labelled rows, fewer than the {MIN_ROWS} needed")
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(error))
    cut = int(len(error) * FIT_SHARE)
    fit, held = order[: min(cut, MAX_FIT_ROWS)], order[cut:]
    inputs = _inputs(frame.iloc[fit], yhat.iloc[fit], specs)
    design = _design(inputs, frame.iloc[fit], yhat.iloc[fit])
    abs_fit = _glm(design, np.abs(error[fit]))
    sq_fit = _glm(design, error[fit] ** 2)
    model = LossModel("glm", inputs, abs_fit[0], sq_fit[0], abs_fit[1], sq_fit[1], n_baseline=len(error))
    a, s = model.predict(frame.iloc[held], yhat.iloc[held])
    e = error[held]
    return replace(
        model,
        c_abs=_variance_ratio(np.abs(e), a),
        c_sq=_variance_ratio(e**2, s),
        relative_abs=_relative_error(np.abs(e), a),
        relative_sq=_relative_error(e**2, s),
    )


def _constant(error: np.ndarray, why: str) -> LossModel:
    if len(error) == 0:
        raise EstimationError(
            "The baseline has no rows with both a numeric prediction and a numeric label, so errors cannot be "
            "estimated. Upload a labelled baseline."
        )
    mean_abs = max(float(np.abs(error).mean()), 1e-300)
    mean_sq = max(float((error**2).mean()), 1e-300)
    note = f"{why}: every row is given the baseline's mean error, so estimates ignore where inputs moved"
    return LossModel(
        "constant",
        (),
        math.log(mean_abs),
        math.log(mean_sq),
        c_abs=_variance_ratio(np.abs(error), np.full(len(error), mean_abs)),
        c_sq=_variance_ratio(error**2, np.full(len(error), mean_sq)),
        relative_abs=1.0 / math.sqrt(len(error)),
        relative_sq=1.0 / math.sqrt(len(error)),
        n_baseline=len(error),
        note=note,
    )


def _inputs(frame: pd.DataFrame, yhat: pd.Series, specs: Sequence[FeatureSpec]) -> tuple[Input, ...]:
    most_bins = max(len(yhat) // ROWS_PER_BIN, 1)  # a small baseline gets coarser bins, not empty ones
    inputs = [Input(PREDICTION, "numeric", _edges(yhat, min(PREDICTION_BINS, most_bins)), tails=_tails(yhat))]
    for spec in specs:
        if spec.name not in frame:
            continue
        values = frame[spec.name]
        if spec.kind == "numeric":
            edges = _edges(values, min(QUANTILE_BINS, most_bins))
            inputs.append(Input(spec.name, "numeric", edges, tails=_tails(values)))
        else:
            counts = values.dropna().map(str).value_counts()
            top = counts[counts >= ROWS_PER_BIN // 5].index[:TOP_CATEGORIES]
            inputs.append(Input(spec.name, "categorical", categories=tuple(str(c) for c in top)))
    return tuple(inputs)


def _edges(values: pd.Series, bins: int) -> tuple[float, ...]:
    """Distinct interior quantiles of the numeric values (none for a constant or empty column)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return ()
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    return tuple(float(e) for e in edges)


def _tails(values: pd.Series) -> tuple[float, ...]:
    """The TAIL_QUANTILES of the numeric values, or () when they coincide (no spread to slope over)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return ()
    low, high = (float(q) for q in np.quantile(x, TAIL_QUANTILES))
    return (low, high) if high > low else ()


def _design(inputs: Sequence[Input], frame: pd.DataFrame, yhat: pd.Series) -> Any:
    """The sparse basis: per input a one-hot block (one 1 per row) and, for a numeric one, its two tail slopes."""
    from scipy import sparse

    n = len(frame)
    rows, cols, data, offset = [], [], [], 0
    every_row = np.arange(n)
    for spec in inputs:
        if spec.name == PREDICTION:
            values = yhat.reset_index(drop=True)
        elif spec.name in frame:
            values = frame[spec.name].reset_index(drop=True)
        else:
            values = pd.Series([None] * n, dtype=object)
        rows.append(every_row)
        cols.append(spec.columns(values) + offset)
        data.append(np.ones(n))
        if spec.kind == "numeric" and spec.tails:
            slopes = spec.slopes(values)
            for j in range(2):
                rows.append(every_row)
                cols.append(np.full(n, offset + spec.bins + j))
                data.append(slopes[:, j])
        offset += spec.width
    if not rows:
        return sparse.csr_matrix((n, 0))
    return sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset)
    )


def _glm(design: Any, target: np.ndarray) -> tuple[float, tuple[float, ...]]:
    """Log-link Poisson GLM of a non-negative target (scaled to mean 1 for the solver), as (intercept, coefs)."""
    from sklearn.linear_model import PoissonRegressor

    scale = float(target.mean())
    if scale <= 0.0:  # every error zero: predict (almost) zero everywhere
        return math.log(1e-300), tuple(0.0 for _ in range(design.shape[1]))
    # Newton's method converges in a few steps where its dense Hessian is small; L-BFGS scales past that
    solver = "newton-cholesky" if design.shape[1] <= NEWTON_COLUMNS else "lbfgs"
    glm = PoissonRegressor(alpha=ALPHA, solver=solver, max_iter=300).fit(design, target / scale)
    return float(glm.intercept_) + math.log(scale), tuple(float(c) for c in glm.coef_)


def _variance_ratio(actual: np.ndarray, predicted: np.ndarray) -> float:
    """``sum (actual - predicted)^2 / sum predicted^2``: the rows' spread around their prediction, relatively."""
    denominator = float((predicted**2).sum())
    if denominator <= 0.0:
        return 0.0
    return float(((actual - predicted) ** 2).sum()) / denominator


def _relative_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """The held-out relative error of the summed predictions: its bias and its standard error together."""
    total = float(predicted.sum())
    if total <= 0.0 or len(actual) < 2:
        return 0.0
    bias = (float(actual.sum()) - total) / total
    sampling = float(np.std(actual - predicted, ddof=1)) * math.sqrt(len(actual)) / total
    return math.sqrt(bias**2 + sampling**2)


# --------------------------------------------------------------------------- aggregate


@dataclass(frozen=True)
class LossAggregate:
    """Mergeable sums of one window's predicted errors, with the model's interval constants."""

    n: int
    sum_abs: float
    sum_sq: float
    sum_abs2: float  # sum of the squared predicted |e|
    sum_sq2: float  # sum of the squared predicted e^2
    c_abs: float
    c_sq: float
    relative_abs: float
    relative_sq: float
    kind: str = field(default="regression", init=False)

    @classmethod
    def empty(cls, model: LossModel) -> LossAggregate:
        """The identity of merge for this model's windows."""
        return cls(0, 0.0, 0.0, 0.0, 0.0, model.c_abs, model.c_sq, model.relative_abs, model.relative_sq)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {name: getattr(self, name) for name in (*_FIELDS, "kind")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossAggregate:
        """Read back what ``to_dict`` wrote."""
        try:
            values = [int(data["n"]), *(float(data[name]) for name in _FIELDS[1:])]
        except (KeyError, TypeError, ValueError) as exc:
            raise EstimationError(
                f"Stored loss aggregate cannot be read ({type(exc).__name__}: {exc}). "
                "Recompute the window's aggregate from its rows."
            ) from exc
        if values[0] < 0 or not all(math.isfinite(v) and v >= 0 for v in values[1:]):
            raise EstimationError(
                "Stored loss aggregate holds a negative or non-finite sum. Recompute the window's aggregate."
            )
        return cls(*values)  # type: ignore[arg-type]


_FIELDS = ("n", "sum_abs", "sum_sq", "sum_abs2", "sum_sq2", "c_abs", "c_sq", "relative_abs", "relative_sq")


def aggregate_window(model: LossModel, features: pd.DataFrame, predictions: Any) -> LossAggregate:
    """Aggregate a window's rows (features as the baseline's typed columns, and predictions)."""
    yhat = pd.to_numeric(pd.Series(np.asarray(predictions, dtype=object).ravel()), errors="coerce")
    if len(yhat) != len(features):
        raise EstimationError(
            f"Got {len(features)} feature rows but {len(yhat)} predictions; pass one prediction per row."
        )
    keep = (yhat.notna() & np.isfinite(yhat)).to_numpy()
    a, s = model.predict(features.reset_index(drop=True)[keep], yhat[keep].to_numpy())
    return LossAggregate(
        int(keep.sum()),
        float(a.sum()),
        float(s.sum()),
        float((a**2).sum()),
        float((s**2).sum()),
        model.c_abs,
        model.c_sq,
        model.relative_abs,
        model.relative_sq,
    )


def merge(a: LossAggregate, b: LossAggregate) -> LossAggregate:
    """The aggregate of the union of two windows' rows (the larger of two models' constants)."""
    return LossAggregate(
        a.n + b.n,
        a.sum_abs + b.sum_abs,
        a.sum_sq + b.sum_sq,
        a.sum_abs2 + b.sum_abs2,
        a.sum_sq2 + b.sum_sq2,
        max(a.c_abs, b.c_abs),
        max(a.c_sq, b.c_sq),
        max(a.relative_abs, b.relative_abs),
        max(a.relative_sq, b.relative_sq),
    )


def merge_all(aggregates: Iterable[LossAggregate]) -> LossAggregate:
    """Merge one or more aggregates."""
    items = list(aggregates)
    if not items:
        raise EstimationError("There are no loss aggregates to merge: the range holds no windows.")
    result = items[0]
    for agg in items[1:]:
        result = merge(result, agg)
    return result


def estimate_from_aggregate(agg: LossAggregate, level: float = DEFAULT_LEVEL) -> dict[str, MetricValue]:
    """Estimated ``mae`` and ``rmse`` of a (merged) window, with intervals for the realized values."""
    if not 0.0 < level < 1.0:
        raise EstimationError(f"Interval level must be between 0 and 1; got {level}. Use e.g. 0.95.")
    if agg.n == 0:
        return {name: MetricValue(name, None, None, None, 0, METHOD, INSUFFICIENT) for name in METRICS}
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    mae, mae_lo, mae_hi = _mean_interval(agg.sum_abs, agg.c_abs * agg.sum_abs2, agg.relative_abs, agg.n, z)
    mse, mse_lo, mse_hi = _mean_interval(agg.sum_sq, agg.c_sq * agg.sum_sq2, agg.relative_sq, agg.n, z)
    return {
        "mae": MetricValue("mae", mae, mae_lo, mae_hi, agg.n, METHOD),
        "rmse": MetricValue("rmse", math.sqrt(mse), math.sqrt(mse_lo), math.sqrt(mse_hi), agg.n, METHOD),
    }


def _mean_interval(
    total: float, variance: float, relative: float, n: int, z: float
) -> tuple[float, float, float]:
    value = total / n
    half = z * (math.sqrt(max(variance, 0.0)) / n + relative * value)
    return value, max(value - half, 0.0), value + half
