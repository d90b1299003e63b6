"""Inequality and aggregation measures, weight-aware, pure JAX and differentiable.

Every measure takes values `x` (1-D, positive where a logarithm or a mean ratio is taken) and
optional weights `w` (1-D, non-negative, same length; `None` = equal weights). Weights are
normalised inside, so population counts or population shares give the same answer. All
functions are jittable, vmappable and differentiable in both `x` and `w`.

| function | formula (`s = w / sum w`, `mu = sum s x`) |
|---|---|
| `weighted_mean` | `mu` |
| `cv` | `sqrt(mean((x - mean x)^2)) / mean x` (unweighted, population sd, ddof = 0) |
| `williamson` | `sqrt(sum s (x - mu)^2) / mu` (population-weighted CV; Williamson 1965) |
| `var_log` | `sum s (log x - sum s log x)^2` (variance of logs; unweighted if `w` is None) |
| `theil` | `sum s (x / mu) log(x / mu)` (Theil-T) |
| `gini` | `sum_ij s_i s_j |x_i - x_j| / (2 mu)` |

`gap` dispatches on a measure name (the `gap=` option of the quota-trade statistics):
`"williamson"`, `"cv"`, `"var_log"`, `"var_log_w"`, `"theil"`, `"gini"`.

Differentiability notes. `cv` and `williamson` use `sqrt` of a variance: at exactly equal
values (zero dispersion) the gradient is not defined; a tiny floor keeps it finite (zero) there.
`gini` uses the pairwise form; `|x_i - x_j|` is not differentiable at ties, and JAX takes
`sign(0) = 0`, i.e. the midpoint of the subdifferential for each tied pair, so the gradient is
finite and symmetric at ties (the O(N^2) pairwise form is fine up to a few thousand values).
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

__all__ = ["weighted_mean", "cv", "williamson", "var_log", "theil", "gini", "gap", "GAP_MEASURES"]

_TINY = 1e-300


def _shares(x, w):
    x = jnp.asarray(x, dtype=jnp.float64)
    if w is None:
        s = jnp.full(x.shape, 1.0 / x.shape[-1], dtype=jnp.float64)
    else:
        w = jnp.asarray(w, dtype=jnp.float64)
        s = w / jnp.sum(w, axis=-1, keepdims=True)
    return x, s


def _safe_sqrt(v):
    """sqrt with a finite (zero) gradient at v = 0."""
    pos = v > _TINY
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, v, 1.0)), 0.0)


def weighted_mean(x, w=None):
    """Weighted mean `sum s x` with `s = w / sum w` (plain mean when `w` is None)."""
    x, s = _shares(x, w)
    return jnp.sum(s * x, axis=-1)


def cv(x, w=None):
    """Coefficient of variation `sd / mean`; with weights it is the Williamson index.

    The unweighted form (`w=None`) uses the population standard deviation (ddof = 0).
    """
    x, s = _shares(x, w)
    mu = jnp.sum(s * x, axis=-1, keepdims=True)
    var = jnp.sum(s * (x - mu) ** 2, axis=-1)
    return _safe_sqrt(var) / mu[..., 0]


def williamson(x, w):
    """Population-weighted coefficient of variation (Williamson index): `sqrt(sum s (x-mu)^2)/mu`."""
    if w is None:
        raise ValueError("williamson: weights (populations) are required; use cv(x) for the unweighted CV")
    return cv(x, w)


def var_log(x, w=None):
    """Variance of logs `sum s (log x - sum s log x)^2` (unweighted when `w` is None). `x > 0`."""
    x, s = _shares(x, w)
    lx = jnp.log(x)
    m = jnp.sum(s * lx, axis=-1, keepdims=True)
    return jnp.sum(s * (lx - m) ** 2, axis=-1)


def theil(x, w=None):
    """Theil-T index `sum s (x/mu) log(x/mu)` (weighted by `w`; `x > 0`)."""
    x, s = _shares(x, w)
    mu = jnp.sum(s * x, axis=-1, keepdims=True)
    r = x / mu
    return jnp.sum(s * r * jnp.log(r), axis=-1)


def gini(x, w=None):
    """Gini coefficient `sum_ij s_i s_j |x_i - x_j| / (2 mu)` (weighted by `w`).

    Equal weights give the population Gini without small-sample correction. At ties the
    gradient takes `d|t|/dt = 0` at `t = 0` (the midpoint of the subdifferential).
    """
    x, s = _shares(x, w)
    mu = jnp.sum(s * x, axis=-1)
    diff = jnp.abs(x[..., :, None] - x[..., None, :])
    return jnp.einsum("...i,...ij,...j->...", s, diff, s) / (2.0 * mu)


GAP_MEASURES: dict[str, tuple[Callable, bool, str]] = {
    # name: (function, uses weights, description)
    "williamson": (cv, True, "population-weighted coefficient of variation (Williamson index)"),
    "cv": (cv, False, "unweighted coefficient of variation"),
    "var_log": (var_log, False, "unweighted variance of logs"),
    "var_log_w": (var_log, True, "population-weighted variance of logs"),
    "theil": (theil, True, "population-weighted Theil-T index"),
    "gini": (gini, True, "population-weighted Gini coefficient"),
}


def gap(x, w, measure: str = "williamson"):
    """Dispersion of `x` with weights `w` by a named measure (see `GAP_MEASURES`)."""
    if measure not in GAP_MEASURES:
        from landjax.errors import InputError

        raise InputError(f"gap measure {measure!r} unknown; choose one of: {', '.join(GAP_MEASURES)}")
    fn, weighted, _ = GAP_MEASURES[measure]
    return fn(x, w if weighted else None)
