"""Policy experiments of the Cheng & Liu (2021) model: comparative statics over one policy
(Figs. 3-12), the shape of each response, and optimal policies (Table 4) by gradient search."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError
from landjax.models.urban_rural.options import Options
from landjax.models.urban_rural.params import MOMENTS, OUTPUT, PARAM_NAMES, WELFARE, Params
from landjax.models.urban_rural.solve import POLICY_RANGES, batch_params, solve_many, solve_reduced_jax, with_values


def policy_sweep(policy: str, values=None, p: Params | None = None, o: Options = Options(), n: int = 101):
    """Comparative statics over one policy (Figures 3-12) as a DataFrame (one row per value)."""
    import pandas as pd

    if policy not in PARAM_NAMES:
        raise InputError(f"unknown parameter {policy!r}; valid parameters: {', '.join(PARAM_NAMES)}")
    p = p or Params()
    if values is None:
        lo, hi = POLICY_RANGES.get(policy, (0.0, 1.0))
        values = np.linspace(lo, hi, n)
    values = np.asarray(values, dtype=float)
    res = solve_many(batch_params(p, len(values), **{policy: values}), o)
    df = pd.DataFrame({"policy": policy, "value": values, **res})
    return df


def classify_shape(y, rel_tol: float = 1e-9) -> str:
    """'up', 'down', 'inverted U', 'U', 'flat' or 'non-monotone' for a sequence on an ordered grid
    (differences smaller than `rel_tol` times the range count as flat)."""
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or not np.all(np.isfinite(y)):
        return "undetermined"
    rng = np.max(y) - np.min(y)
    if rng <= rel_tol * max(1.0, np.max(np.abs(y))):
        return "flat"
    d = np.diff(y)
    tol = rel_tol * rng
    up, down = np.all(d >= -tol), np.all(d <= tol)
    if up:
        return "up"
    if down:
        return "down"
    i = int(np.argmax(y))
    if 0 < i < len(y) - 1 and np.all(d[:i] >= -tol) and np.all(d[i:] <= tol):
        return "inverted U"
    j = int(np.argmin(y))
    if 0 < j < len(y) - 1 and np.all(d[:j] <= tol) and np.all(d[j:] >= -tol):
        return "U"
    return "non-monotone"


#: outcomes an optimal policy can maximise (the order of the one-hot target selector)
TARGETS = (*WELFARE, *OUTPUT, *MOMENTS)


def policy_selectors(names: tuple[str, ...], target: str) -> tuple[jax.Array, jax.Array]:
    """One-hot selectors `(sel, tsel)` for `policy_value`: `sel[i, j] = 1` where policy
    `i` is parameter `j`; `tsel[t] = 1` at the target. They are array leaves (traced), so every
    choice of policies and target with the same number of policies shares one compiled program."""
    sel = np.zeros((len(names), len(PARAM_NAMES)))
    for i, n_ in enumerate(names):
        sel[i, PARAM_NAMES.index(n_)] = 1.0
    tsel = np.zeros(len(TARGETS))
    tsel[TARGETS.index(target)] = 1.0
    return jnp.asarray(sel), jnp.asarray(tsel)


def policy_value(x: Any, args: tuple[Params, Options, jax.Array, jax.Array]) -> Any:
    """The selected outcome (e.g. TU or Y_n) at policy values `x`: the `objective(x, args)` of
    `landjax.engine.optimize` with `args = (params, options, *policy_selectors(names,
    target))`; NaN where no equilibrium is found (counts as worst in the engine)."""
    p, o, sel, tsel = args
    vals = {}
    for j, n_ in enumerate(PARAM_NAMES):
        w = jnp.sum(sel[:, j])
        vals[n_] = (1.0 - w) * getattr(p, n_) + jnp.dot(sel[:, j], x)
    q = with_values(p, **vals)
    _, out = solve_reduced_jax(q, o)
    v = jnp.dot(tsel, jnp.stack([out[t] for t in TARGETS]))
    return jnp.where(out["converged"], v, jnp.nan)


def optimal_policy(
    names,
    target: str = "TU",
    p: Params | None = None,
    o: Options = Options(),
    *,
    lower=None,
    upper=None,
    n_screen: int = 64,
    n_starts: int = 2,
    max_iter: int = 60,
    x0=None,
    measure_grad_cost: bool = True,
):
    """Maximise `target` over the policies `names` with `landjax.engine.optimize`
    (vmapped screen, then L-BFGS-B with implicit gradients). Bounds default to the paper's ranges."""
    from landjax.engine import optimize

    names = tuple(names)
    bad = [n_ for n_ in names if n_ not in PARAM_NAMES]
    if bad or target not in TARGETS:
        raise InputError(
            f"optimal_policy: unknown names {bad or target}; parameters: {', '.join(PARAM_NAMES)}; "
            f"targets: {', '.join((*WELFARE, *OUTPUT, *MOMENTS))}"
        )
    p = p or Params()
    lo = np.array([POLICY_RANGES.get(n_, (0.0, 1.0))[0] for n_ in names]) if lower is None else np.asarray(lower, float)
    hi = np.array([POLICY_RANGES.get(n_, (0.0, 1.0))[1] for n_ in names]) if upper is None else np.asarray(upper, float)
    return optimize(
        policy_value,
        lo,
        hi,
        (p, o, *policy_selectors(names, target)),
        maximize=True,
        n_screen=n_screen,
        n_starts=n_starts,
        max_iter=max_iter,
        tol=1e-9,
        x0=np.array([float(getattr(p, n_)) for n_ in names]) if x0 is None else np.asarray(x0, float),
        progress_bar=False,
        measure_grad_cost=measure_grad_cost,
    )
