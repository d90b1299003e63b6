"""Random in-range draws for every model: an answer is either converged and checked, or flagged.

For each model, parameters are drawn at random inside their allowed ranges (`RANGES` below: the
admissible interval of each field, narrowed where the admissible set is unbounded) and solved as
one batch. Every member must then be one of two things:

- **converged**: the model's equilibrium conditions, recomputed *outside the solver* (a separate
  evaluation of the model's `residual` at the reported unknowns, plus an independent numpy check
  where the model has one, e.g. the claims' balance and bounds), are small, and every reported
  number is finite;
- **flagged**: `converged` is false and the status code says why (never a number presented as an
  answer with a failed check).

`make test` runs `N_DRAWS` (>= 200) draws per model; the long test (`make test-long`) runs ten
times more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import UR_RANGES

from landjax.contract import Result
from landjax.models import claims as cl
from landjax.models import helpman as hm
from landjax.models import land_debt as ld
from landjax.models import quota_trade as qt
from landjax.models import urban_rural as ur

N_DRAWS = 200
#: grid of the Helpman draws (a square number of cells)
HELPMAN_CELLS = 100

#: per model: {field: (lo, hi)} drawn uniformly; ranges lie inside each field's admissible bounds
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "urban_rural": UR_RANGES,
    # the structural elasticities of Ma & Ni (Table 1's calibration, widened)
    "quota_trade": {
        "alpha": (0.5, 0.85),
        "eta": (0.05, 0.3),
        "kappa": (1.5, 6.0),
        "sigma": (0.4, 0.9),
        "rho": (0.02, 0.3),
    },
    # Zhao & Liu's preference, technology and policy parameters (Table 1's calibration, +-40%)
    "land_debt": {
        "beta": (0.93, 0.985),
        "beta_g": (0.8, 0.92),
        "chi": (0.05, 0.3),
        "a_n": (0.35, 0.6),
        "a_l": (0.05, 0.2),
        "gamma": (0.03, 0.15),
        "psi_s": (0.2, 1.0),
        "delta_k": (0.06, 0.15),
        "delta_g": (0.03, 0.08),
        "delta_L": (0.008, 0.03),
        "lam": (0.5, 0.9),
        "theta_L": (0.0, 0.15),
        "theta_K": (0.1, 0.4),
        "sigma": (1.5, 5.0),
        "kappa": (1.0, 2.5),
        "xi": (0.85, 0.98),
        "k_bar": (0.8, 1.6),
    },
    # Redding's trade and preference parameters (the paper's values, widened; sigma (1 - alpha) > 1)
    "helpman": {
        "alpha": (0.55, 0.8),
        "sigma": (6.0, 10.0),
        "dist_elasticity": (0.1, 0.6),
        "internal_cost": (1.2, 3.0),
        "border_cost": (1.0, 3.0),
    },
}

#: the largest recomputed residual (max-norm) accepted for a converged member: a small multiple of
#: each model's default solver tolerance on the same quantity
RESIDUAL_TOL = {"claims": 1e-9, "urban_rural": 1e-8, "quota_trade": 1e-8, "land_debt": 1e-7, "helpman": 1e-7}


def _draw(model: str, base: Any, n: int, seed: int) -> Any:
    """``n`` parameter sets: the fields of RANGES drawn uniformly, the others at their defaults."""
    rng = np.random.default_rng(seed)
    draws = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in RANGES[model].items()}
    for k, (lo, hi) in RANGES[model].items():
        bounds = type(base).fields_info()[k].bounds
        assert bounds is None or (bounds.contains(lo) and bounds.contains(hi)), f"{model}.{k}: range outside bounds"

    def leaf(name: str, v: Any) -> Any:
        if name in draws:
            return draws[name]
        a = np.asarray(v, dtype=np.float64)
        return np.broadcast_to(a, (n, *a.shape)).copy()

    fields = {k: leaf(k, getattr(base, k)) for k in type(base).fields_info()}
    return type(base)(**fields)  # validated: every draw is an admissible parameter set


def _member(tree: Any, i: int) -> Any:
    return jax.tree_util.tree_map(lambda v: v[i], tree)


def _max_abs(tree: Any) -> np.ndarray:
    """Max-norm of a (batched) pytree over every axis but the first."""
    leaves = [
        np.abs(np.asarray(v, dtype=np.float64)).reshape(np.shape(v)[0], -1) for v in jax.tree_util.tree_leaves(tree)
    ]
    return np.max(np.concatenate(leaves, axis=1), axis=1)


def _all_finite(tree: Any) -> np.ndarray:
    leaves = [np.asarray(v, dtype=np.float64).reshape(np.shape(v)[0], -1) for v in jax.tree_util.tree_leaves(tree)]
    return np.all(np.isfinite(np.concatenate(leaves, axis=1)), axis=1)


def _check(model: str, rb: Result, recomputed: np.ndarray, finite_outcomes: np.ndarray, label: str = "") -> None:
    tol = RESIDUAL_TOL[model]
    model = label or model
    conv = np.asarray(rb.converged, dtype=bool)
    code = np.asarray(rb.code)
    n = conv.size
    assert conv.sum() >= n // 2, f"{model}: only {int(conv.sum())}/{n} draws converged; the ranges are too wide to test"
    bad = np.flatnonzero(conv & ~(recomputed <= tol))
    assert bad.size == 0, (
        f"{model}: {bad.size} converged members fail the recomputed residual, e.g. member {bad[0]} "
        f"with {recomputed[bad[0]]:.3g} > {tol:g}"
    )
    nonfinite = np.flatnonzero(conv & ~finite_outcomes)
    assert nonfinite.size == 0, f"{model}: converged members {nonfinite[:5]} report non-finite numbers"
    # a failure is flagged: a status code, and the per-row table and JSON say not converged
    assert np.all(code[~conv] != 0), f"{model}: failed members with status 0"
    assert np.all(code[conv] == 0)
    frame = rb.to_frame() if hasattr(rb, "to_frame") else None
    if frame is not None and len(frame) == n:
        np.testing.assert_array_equal(frame["converged"].to_numpy(dtype=bool), conv)
    for i in np.flatnonzero(~conv)[:3]:
        d = _member(rb, int(i)).to_dict()
        assert d["converged"] is False and d["message"], f"{model}: failed member {i} not flagged in JSON"


# ------------------------------------------------------------------------------------------------
# one runner per model: solve the batch, recompute the conditions outside the solver
# ------------------------------------------------------------------------------------------------


def _run_claims(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for rule in cl.Options.registry()[0].choices:
        k = 5
        # claims over four orders of magnitude, a zero claim now and then, estate up to the total
        c = np.exp(rng.uniform(0.0, np.log(1e4), (n, k))) * (rng.uniform(size=(n, k)) > 0.1)
        c[:, 0] = np.maximum(c[:, 0], 1.0)
        E = rng.uniform(0.0, 1.0, n) * c.sum(axis=1)
        pb = cl.Params(claims=c, estate=E)
        o = cl.Options(rule=rule)
        rb = cl.solve_batch(pb, o)
        x = np.asarray(rb.unknowns["awards"])
        # independent checks in numpy: the awards divide the estate and respect the claims
        scale = np.maximum(1.0, c.max(axis=1))
        balance = np.abs(x.sum(axis=1) - E) / scale
        bounds = np.maximum(np.max(-x, axis=1), np.max(x - c, axis=1)) / scale
        recomputed = np.maximum(balance, np.maximum(bounds, 0.0))
        if rule != "AA":  # AA's ill-conditioned members were recomputed exactly, not by the float rule
            res = _max_abs(jax.jit(jax.vmap(lambda u, p: cl.residual(u, p, o)))(rb.unknowns, pb))
            recomputed = np.maximum(recomputed, res / scale)
        _check("claims", rb, recomputed, _all_finite(rb.outcomes), label=f"claims (rule {rule})")


def _run_urban_rural(n: int, seed: int) -> None:
    o = ur.Options()
    pb = _draw("urban_rural", ur.Params(), n, seed)
    rb = ur.solve_batch(pb, o)
    res = _max_abs(jax.jit(jax.vmap(lambda u, p: ur.residual(u, p, o)))(rb.unknowns, pb))
    _check("urban_rural", rb, res, _all_finite(rb.outcomes))


def _run_quota_trade(n: int, seed: int) -> None:
    o = qt.Options()
    pb = _draw("quota_trade", qt.Params(), n, seed)
    ctx = {"scenario": "inter_all_area_both"}
    rb = qt.solve_batch(pb, o, **ctx)
    res = _max_abs(jax.jit(jax.vmap(lambda u, p: qt.residual(u, p, o, **ctx)))(rb.unknowns, pb))
    _check("quota_trade", rb, res, _all_finite(rb.outcomes["statistics"]))


def _run_land_debt(n: int, seed: int) -> None:
    o = ld.Options()
    pb = _draw("land_debt", ld.Params(), n, seed)
    rb = ld.solve_batch(pb, o)
    res = _max_abs(jax.jit(jax.vmap(lambda u, p: ld.residual(u, p, o)))(rb.unknowns, pb))
    _check("land_debt", rb, res, _all_finite(rb.outcomes))


def _run_helpman(n: int, seed: int) -> None:
    o = hm.Options()
    # a 10 x 10 grid (the paper's is 30 x 30) with log productivities drawn like the paper's
    a = np.random.default_rng(seed).normal(0.0, float(np.std(np.asarray(hm.Params().a))), HELPMAN_CELLS)
    pb = _draw("helpman", hm.Params(a=a), n, seed)
    rb = hm.solve_batch(pb, o)
    res = _max_abs(jax.jit(jax.vmap(lambda u, p: hm.residual(u, p, o)))(rb.unknowns, pb))
    _check("helpman", rb, res, _all_finite(rb.outcomes))


RUNNERS: dict[str, Callable[[int, int], None]] = {
    "claims": _run_claims,
    "urban_rural": _run_urban_rural,
    "quota_trade": _run_quota_trade,
    "land_debt": _run_land_debt,
    "helpman": _run_helpman,
}


@pytest.mark.parametrize("model", sorted(RUNNERS))
def test_random_draws_converge_or_are_flagged(model):
    RUNNERS[model](N_DRAWS, seed=11)


@pytest.mark.slow
@pytest.mark.long  # about 40 min of CPU: `make test-long`, not `make test`
@pytest.mark.parametrize("model", sorted(RUNNERS))
def test_random_draws_converge_or_are_flagged_many(model):
    RUNNERS[model](10 * N_DRAWS, seed=12)


def test_the_check_catches_a_wrong_answer():
    """The residual check can fail: perturbed unknowns of a converged member are caught."""
    o = ur.Options()
    pb = _draw("urban_rural", ur.Params(), 8, 3)
    rb = ur.solve_batch(pb, o)
    wrong = {k: jnp.asarray(v) * (1.0 + 1e-6) for k, v in rb.unknowns.items()}
    res = _max_abs(jax.jit(jax.vmap(lambda u, p: ur.residual(u, p, o)))(wrong, pb))
    with pytest.raises(AssertionError, match="recomputed residual"):
        _check("urban_rural", rb, res, _all_finite(rb.outcomes))
