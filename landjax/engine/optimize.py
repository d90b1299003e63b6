"""Box-constrained optimisation of a scalar function of an equilibrium.

Two stages: a vmapped random screen of the box, then L-BFGS-B (``jaxopt.LBFGSB``) from the best
screened points, with gradients from implicit differentiation. Every evaluation is counted; a
value-and-gradient evaluation is converted into forward-solve equivalents with its measured cost
ratio, so gradient search and random search compare on one scale.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax._io import progress
from landjax.errors import InputError, as_float64


@dataclasses.dataclass(frozen=True)
class OptimizeResult:
    """Outcome of :func:`optimize` (values in the user's sense: maximised values for ``maximize=True``).

    Attributes:
        x, value: the best point and its objective value.
        converged: L-BFGS-B met its tolerance (or the projected gradient is below ``tol``) at the best start.
        projected_grad_norm: ``max|x - clip(x - grad, lower, upper)|`` at ``x`` (0 at a box-KKT point).
        n_value_evals: objective-only evaluations (screen + line searches counted by the optimiser).
        n_grad_evals: value-and-gradient evaluations.
        grad_cost_ratio: measured time(value_and_grad) / time(value).
        solve_equivalents: ``solves_per_eval * (n_value_evals + grad_cost_ratio * n_grad_evals)``.
        history: one row per L-BFGS-B iteration (start, iter, value, x0..).
        starts: the polished starts (start, screen_value, final_value, iterations, converged).
    """

    x: np.ndarray
    value: float
    converged: bool
    projected_grad_norm: float
    n_value_evals: int
    n_grad_evals: int
    grad_cost_ratio: float
    solve_equivalents: float
    history: pd.DataFrame
    starts: pd.DataFrame
    message: str = ""


def _time_call(fn, x, repeats=3):
    jax.block_until_ready(fn(x))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(x))
        best = min(best, time.perf_counter() - t0)
    return best


def optimize(
    objective: Callable[[jax.Array, Any], jax.Array],
    lower: Any,
    upper: Any,
    args: Any = None,
    *,
    maximize: bool = False,
    n_screen: int = 256,
    n_starts: int = 4,
    max_iter: int = 100,
    tol: float = 1e-8,
    seed: int = 0,
    x0: Any = None,
    solves_per_eval: float = 1.0,
    screen_chunk: int = 256,
    progress_bar: bool = True,
    measure_grad_cost: bool = True,
    max_solve_equivalents: float | None = None,
) -> OptimizeResult:
    """Minimise (or maximise) ``objective(x, args)`` over the box ``lower <= x <= upper``.

    **Arguments:**

    - `objective`: scalar, jittable and vmappable (it may solve an equilibrium inside; return NaN
      where that solve fails: non-finite values count as the worst possible).
    - `lower`, `upper`: box bounds (1-D arrays).
    - `maximize`: maximise instead of minimise.
    - `n_screen`: random uniform points screened with ``vmap`` (in chunks of ``screen_chunk``).
    - `n_starts`: best screened points (plus ``x0`` if given) polished with L-BFGS-B.
    - `max_iter`, `tol`: L-BFGS-B iteration cap and tolerance (projected-gradient based).
    - `seed`: PRNG seed of the screen.
    - `solves_per_eval`: equilibrium solves in one objective evaluation (for the solve count).
    - `max_solve_equivalents`: optional budget. The value-and-gradient cost ratio is then measured
      before polishing, and starts are polished in screen order (up to ``n_starts``) while the
      running count (screen + every evaluation so far) stays within the budget; a start that ends
      at once (a flat or stationary screen point) costs little, so the next one gets the rest. The
      timing calls that measure the ratio are not counted. The next iteration is assumed to cost
      as much as the dearest one of that start so far, so a line search longer than any before it
      can overshoot the budget by its extra evaluations (the count reported is the true one).

    **Returns:** an :class:`OptimizeResult`.
    """
    import jaxopt

    lo = as_float64(lower, "optimize: lower").reshape(-1)
    hi = as_float64(upper, "optimize: upper").reshape(-1)
    if lo.shape != hi.shape:
        raise InputError(f"optimize: lower {lo.shape} and upper {hi.shape} differ in shape")
    if bool(jnp.any(lo >= hi)):
        i = int(jnp.argmax(lo >= hi))
        raise InputError(f"optimize: lower[{i}]={float(lo[i])} is not below upper[{i}]={float(hi[i])}")
    if n_starts < 1 or n_screen < 0:
        raise InputError("optimize: need n_starts >= 1 and n_screen >= 0")
    if max_solve_equivalents is not None and not max_solve_equivalents > 0:
        raise InputError(f"optimize: max_solve_equivalents must be > 0, got {max_solve_equivalents}")
    d = lo.shape[0]
    sign = -1.0 if maximize else 1.0

    def f(x):
        v = sign * objective(x, args)
        return jnp.where(jnp.isfinite(v), v, jnp.inf)

    f_jit = jax.jit(f)
    vg_raw = jax.jit(jax.value_and_grad(lambda x: sign * objective(x, args)))

    def vg(x):
        v, g = vg_raw(x)
        bad = ~jnp.isfinite(v) | ~jnp.all(jnp.isfinite(g))
        return jnp.where(bad, jnp.inf, v), jnp.where(bad, 0.0, g)

    # --- screen
    candidates = []
    if n_screen:
        key = jax.random.PRNGKey(seed)
        X = lo + (hi - lo) * jax.random.uniform(key, (n_screen, d), dtype=jnp.float64)
        chunk = max(1, min(screen_chunk, n_screen))
        pad = (-n_screen) % chunk
        Xp = jnp.concatenate([X, jnp.repeat(X[-1:], pad, axis=0)]) if pad else X
        vals = jax.jit(lambda Z: jax.lax.map(jax.vmap(f), Z))(Xp.reshape(-1, chunk, d)).reshape(-1)[:n_screen]
        vals = np.asarray(vals)
        order = np.argsort(np.where(np.isfinite(vals), vals, np.inf), kind="stable")
        candidates = [(np.asarray(X[i]), float(vals[i])) for i in order[:n_starts]]
    if x0 is not None:
        x0a = np.clip(np.asarray(as_float64(x0, "optimize: x0")).reshape(-1), np.asarray(lo), np.asarray(hi))
        candidates.insert(0, (x0a, float(f_jit(jnp.asarray(x0a)))))
    if not candidates:
        raise InputError("optimize: nothing to start from (n_screen=0 and no x0)")
    n_value = n_screen + (1 if x0 is not None else 0)

    # --- polish
    solver = jaxopt.LBFGSB(fun=vg, value_and_grad=True, maxiter=max_iter, tol=tol, jit=True)
    bounds = (lo, hi)
    update = jax.jit(lambda x, s: solver.update(x, s, bounds=bounds))
    ratio = None
    if max_solve_equivalents is not None:
        ratio = _time_call(vg_raw, jnp.asarray(candidates[0][0])) / max(_time_call(f_jit, jnp.asarray(candidates[0][0])), 1e-9)

    def used(n_grad_so_far):
        return solves_per_eval * (n_value + ratio * n_grad_so_far)

    rows, start_rows = [], []
    n_grad = 0
    best = (None, np.inf, False, 0)
    bar = progress(total=len(candidates) * max_iter, desc="optimize (L-BFGS-B)") if progress_bar else None
    for s_idx, (xs, screen_val) in enumerate(candidates):
        if ratio is not None and used(n_grad + 1) > max_solve_equivalents:
            break  # not even one value-and-gradient evaluation fits in the budget
        x = jnp.asarray(xs)
        state = solver.init_state(x, bounds=bounds)
        start_grad = n_grad
        n_grad += 1  # init evaluates value and gradient once
        it, most_per_iter = 0, 1
        rows.append({"start": s_idx, "iter": 0, "value": sign * float(state.value), **{f"x{j}": float(x[j]) for j in range(d)}})
        while it < max_iter and float(state.error) > tol and np.isfinite(float(state.value)):
            # LBFGSB counts every function evaluation of its line searches as value-and-gradient;
            # the next iteration is assumed to cost as much as the dearest one so far
            spent = start_grad + max(int(state.num_grad_eval), 1)
            if ratio is not None and used(spent + most_per_iter) > max_solve_equivalents:
                break
            x, state = update(x, state)
            most_per_iter = max(most_per_iter, start_grad + int(state.num_grad_eval) - spent)
            it += 1
            rows.append({"start": s_idx, "iter": it, "value": sign * float(state.value), **{f"x{j}": float(x[j]) for j in range(d)}})
            if bar is not None:
                bar.update(1)
        n_grad = start_grad + (int(state.num_grad_eval) if int(state.num_grad_eval) > 0 else it + 1)
        conv = bool(float(state.error) <= tol)
        start_rows.append({"start": s_idx, "screen_value": sign * screen_val, "final_value": sign * float(state.value),
                           "iterations": it, "converged": conv})
        if float(state.value) < best[1]:
            best = (np.asarray(x), float(state.value), conv, it)
    if bar is not None:
        bar.close()
    if not start_rows:  # the budget allowed no polishing: report the best screened point
        vals = np.array([v for _, v in candidates])
        if np.isfinite(vals).any():
            i = int(np.argmin(np.where(np.isfinite(vals), vals, np.inf)))
            best = (np.asarray(candidates[i][0]), float(vals[i]), False, 0)
    if best[0] is None:
        raise InputError("optimize: the objective was non-finite at every start (no feasible point found)")
    xb = jnp.asarray(best[0])
    _, g = vg(xb)
    pg = float(jnp.max(jnp.abs(xb - jnp.clip(xb - g, lo, hi))))
    if ratio is None:
        ratio = _time_call(vg_raw, xb) / max(_time_call(f_jit, xb), 1e-9) if measure_grad_cost else 1.0
    converged = best[2] or pg <= max(tol, 1e-6)
    return OptimizeResult(
        x=best[0], value=sign * best[1], converged=converged, projected_grad_norm=pg,
        n_value_evals=n_value, n_grad_evals=n_grad, grad_cost_ratio=ratio,
        solve_equivalents=float(solves_per_eval * (n_value + ratio * n_grad)),
        history=pd.DataFrame(rows), starts=pd.DataFrame(start_rows),
        message="converged" if converged else f"stopped after max_iter={max_iter} with projected gradient {pg:.3e}",
    )
