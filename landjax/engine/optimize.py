"""Optimisation of a scalar function of an equilibrium over a box.

Two stages: a vmapped random screen of the box, then a local polish from the best screened points
with gradients from implicit differentiation: L-BFGS-B (`jaxopt.LBFGSB`, within the box) for
smooth objectives, or BFGS with a weak Wolfe line search (unconstrained) for piecewise-smooth ones;
optionally as successive halving (short probes of many starts, the best continued). Every
evaluation is counted; a value-and-gradient evaluation is converted into forward-solve equivalents
with its measured cost ratio, so gradient search and random search compare on one scale.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._io import progress
from landjax.engine._compile import cached, merge_args, split_args
from landjax.errors import InputError, as_float64

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class OptimizeResult:
    """Outcome of `optimize` (values in the user's sense: maximised values for `maximize=True`).

    **Attributes:**

    - `x`, `value`: the best point and its objective value.
    - `converged`: L-BFGS-B met its tolerance (or the projected gradient is below `tol`) at the best start.
    - `projected_grad_norm`: `max|x - clip(x - grad, lower, upper)|` at `x` (0 at a box-KKT point);
      for `method="bfgs"` (unconstrained) `max|grad|`; NaN when nothing was polished.
    - `n_value_evals`: objective-only evaluations (screen + line searches counted by the optimiser).
    - `n_grad_evals`: value-and-gradient evaluations.
    - `grad_cost_ratio`: measured time(value_and_grad) / time(value).
    - `solve_equivalents`: `solves_per_eval * (n_value_evals + grad_cost_ratio * n_grad_evals)`.
    - `history`: one row per L-BFGS-B iteration (start, iter, value, x0..).
    - `starts`: the polished starts (start, screen_value, final_value, iterations, evals, restarts,
      converged, kept (continued after the probe stage), reason).
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


def _cost_ratio(vg, f, points) -> float:
    """time(value and gradient) / time(value), each the best of 3 calls, summed over `points` (the
    cost of a solve depends on the point, and one timing is noisy)."""
    t_vg = sum(_time_call(vg, jnp.asarray(x)) for x in points)
    t_f = sum(_time_call(f, jnp.asarray(x)) for x in points)
    return t_vg / max(t_f, 1e-9)


class _Run:
    """Book-keeping shared by the local runs: one start, advanced in pieces by `advance(eval_limit,
    can_afford)`; `best_*` is the best point evaluated (value in minimisation form, gradient)."""

    def __init__(self, max_iter, tol):
        self.max_iter, self.tol = max_iter, tol
        self.iterations, self.n_evals, self.restarts = 0, 0, 0
        self.done, self.converged, self.reason = False, False, "not started"
        self.rows: list[tuple[int, float, np.ndarray]] = []
        self.best_x: Any = None
        self.best_f: float = np.inf
        self.best_g: Any = None

    def advance(self, eval_limit: float, can_afford: Callable[[int], bool]) -> None:  # pragma: no cover
        raise NotImplementedError


class _LBFGSBRun(_Run):
    """One L-BFGS-B run (`jaxopt.LBFGSB`, box-constrained)."""

    #: iterations in a row without any decrease of the best value before the memory is reset there
    STALL = 3

    def __init__(self, init, update, x0, max_iter, tol, max_restarts=0):
        super().__init__(max_iter, tol)
        self.init, self.update = init, update
        self.x: Any = jnp.asarray(x0)
        self.state: Any = None
        self.most_per_iter = 1
        self.max_restarts = max_restarts
        self.stalled = 0
        # evaluations and iterations before the latest restart (jaxopt's counter starts again)
        self.offset, self.base_iter = 0, 0

    def _record(self):
        # jaxopt's L-BFGS-B takes its step even when the line search failed (at a kink the value can
        # rise), so the last iterate is not always the best: keep the best finite point seen
        x, f = np.asarray(self.x), float(self.state.value)
        self.rows.append((self.iterations, f, x))
        if self.best_x is None or (np.isfinite(f) and not f >= self.best_f):
            self.best_x, self.best_f, self.best_g = x, f, np.asarray(self.state.grad)

    def advance(self, eval_limit, can_afford):
        if self.state is None:
            if not can_afford(1):
                self.done, self.reason = True, "budget exhausted before the first evaluation"
                return
            self.state = self.init(self.x)
            self.n_evals = 1
            self._record()
        while not self.done:
            if not np.isfinite(float(self.state.value)):
                self.done, self.reason = True, "non-finite objective at the start"
            elif float(self.state.error) <= self.tol:
                self.done, self.converged, self.reason = True, True, "converged"
            elif self.iterations >= self.max_iter:
                self.done, self.reason = True, f"max_iter={self.max_iter} reached"
            elif self.n_evals >= eval_limit:
                self.reason = "paused at its evaluation limit (probe stage)"
                return
            # LBFGSB counts every function evaluation of its line searches as value-and-gradient;
            # the next iteration is assumed to cost as much as the dearest one so far
            elif not can_afford(self.most_per_iter):
                self.done, self.reason = True, "budget exhausted"
            elif self.stalled >= self.STALL:
                # a failed line search leaves L-BFGS-B cycling (at a kink, or with curvature pairs
                # from the other side of one): start again at the best point with empty memory
                if self.restarts >= self.max_restarts:
                    self.done, self.reason = True, f"stalled ({self.restarts} restarts)"
                elif not can_afford(1):
                    self.done, self.reason = True, "budget exhausted"
                else:
                    self.restarts += 1
                    self.stalled = 0
                    self.x = jnp.asarray(self.best_x)
                    self.state = self.init(self.x)
                    self.offset, self.base_iter = self.n_evals, self.iterations
                    self.n_evals += 1
                    self._record()
            else:
                before = self.n_evals
                best = self.best_f
                self.x, self.state = self.update(self.x, self.state)
                self.iterations += 1
                self.n_evals = self.offset + max(int(self.state.num_grad_eval), self.iterations - self.base_iter + 1)
                self.most_per_iter = max(self.most_per_iter, self.n_evals - before)
                self._record()
                improved = self.best_f < best
                self.stalled = 0 if improved else self.stalled + 1


class _BFGSRun(_Run):
    """BFGS with a weak Wolfe line search, unconstrained, for nonsmooth (piecewise-smooth) objectives.

    Lewis & Overton (2013, "Nonsmooth optimization via quasi-Newton methods", Math. Program. 141):
    full inverse-Hessian BFGS with the Armijo condition (`c1`) and the *weak* curvature condition
    (`c2`), found by doubling and bisection, keeps making progress where a kink stops L-BFGS-B's
    strong Wolfe line search.  When the line search fails, the inverse Hessian is reset to the
    identity (up to `max_restarts` times); a failure along the steepest-descent direction ends
    the run.  Every evaluated point is a candidate for the best.

    `lazy=(value, grad)` (optional): `value(x) -> (v, token)` and `grad(x, token) -> g`.  A trial
    point of the line search is then evaluated by value first, and its gradient is computed only
    when the Armijo condition holds (a rejected trial needs no gradient); `vg` is still used for
    the first point of a run."""

    def __init__(self, vg, x0, max_iter, tol, max_restarts, c1=1e-4, c2=0.5, max_ls=20, min_step=1e-6, lazy=None):
        super().__init__(max_iter, tol)
        self.vg = vg
        self.lazy = lazy
        self.x: Any = np.asarray(x0, dtype=np.float64)
        self.f: Any = None
        self.g: Any = None
        self.max_restarts = max_restarts
        self.c1, self.c2, self.max_ls, self.min_step = c1, c2, max_ls, min_step
        self.gamma: float | None = None  # scale sy/yy of the latest curvature pair: the inverse Hessian after a reset
        self.H, self.fresh = np.eye(self.x.size), True

    def _reset(self):
        """Inverse Hessian back to a multiple of the identity: the latest curvature scale, or (before
        any) a first step of unit length."""
        scale = self.gamma if self.gamma is not None else 1.0 / max(float(np.linalg.norm(self.g)), 1e-300)
        self.H, self.fresh = scale * np.eye(self.x.size), True

    def _eval(self, x):
        v, g = self.vg(jnp.asarray(x))
        v, g = float(v), np.asarray(g, dtype=np.float64)
        self.n_evals += 1
        if not np.isfinite(v):
            return np.inf, np.zeros_like(x)
        if v < self.best_f:
            self.best_x, self.best_f, self.best_g = np.array(x), v, g
        return v, g

    def _eval_value(self, x):
        """Value only (lazy mode): `(v, token)`; counted as an evaluation, a candidate for the best."""
        v, token = self.lazy[0](jnp.asarray(x))
        v = float(v)
        self.n_evals += 1
        if not np.isfinite(v):
            return np.inf, None
        if v < self.best_f:
            self.best_x, self.best_f, self.best_g = np.array(x), v, None
        return v, token

    def _eval_grad(self, x, v, token):
        g = np.asarray(self.lazy[1](jnp.asarray(x), token), dtype=np.float64)
        if self.best_g is None and self.best_f == v and np.array_equal(self.best_x, x):
            self.best_g = g
        return g

    def _trial(self, x, armijo_bound):
        """`(f, g)` at a trial point; in lazy mode `g` is None when the Armijo condition fails."""
        if self.lazy is None:
            return self._eval(x)
        f, token = self._eval_value(x)
        if not f <= armijo_bound:
            return f, None
        return f, self._eval_grad(x, f, token)

    def advance(self, eval_limit, can_afford):
        if self.f is None:
            if not can_afford(1):
                self.done, self.reason = True, "budget exhausted before the first evaluation"
                return
            self.f, self.g = self._eval(self.x)
            self.rows.append((0, self.f, self.x.copy()))
            if not np.isfinite(self.f):
                self.done, self.reason = True, "non-finite objective at the start"
            else:
                self._reset()
        while not self.done:
            if float(np.max(np.abs(self.g))) <= self.tol:
                self.done, self.converged, self.reason = True, True, "converged"
                return
            if self.iterations >= self.max_iter:
                self.done, self.reason = True, f"max_iter={self.max_iter} reached"
                return
            if self.n_evals >= eval_limit:
                self.reason = "paused at its evaluation limit (probe stage)"
                return
            if not float(self.g @ self.H @ self.g) > 0:  # numerical loss of positive definiteness
                self._reset()
            d = -self.H @ self.g
            gd = float(self.g @ d)
            lo, hi, t, at_lo, accepted = 0.0, np.inf, 1.0, None, None
            for _ in range(self.max_ls):
                if not can_afford(1):
                    self.done, self.reason = True, "budget exhausted"
                    return
                xt = self.x + t * d
                ft, gt = self._trial(xt, self.f + self.c1 * t * gd)
                if gt is None or not ft <= self.f + self.c1 * t * gd:  # Armijo fails (or non-finite): too long
                    hi = t
                elif float(gt @ d) < self.c2 * gd:  # weak Wolfe curvature fails: step too short
                    lo, at_lo = t, (xt, ft, gt)
                else:
                    accepted = (xt, ft, gt)
                    break
                t = 0.5 * (lo + hi) if np.isfinite(hi) else 2.0 * t
                if np.isfinite(hi) and hi <= self.min_step:  # no decrease along d down to min_step
                    break
            if accepted is None:
                accepted = at_lo  # sufficient decrease without the curvature condition
            if accepted is None:
                if self.fresh or self.restarts >= self.max_restarts:
                    self.done, self.reason = True, "line search failed (a kink or a flat piece)"
                    return
                self._reset()
                self.restarts += 1
                continue
            xt, ft, gt = accepted
            s, y = xt - self.x, gt - self.g
            stalled = self.f - ft <= 1e-14 * abs(self.f)
            self.x, self.f, self.g = xt, ft, gt
            self.iterations += 1
            self.rows.append((self.iterations, self.f, self.x.copy()))
            sy = float(s @ y)
            if sy > 0:
                self.gamma = sy / float(y @ y)
                if self.fresh:
                    self.H = self.gamma * np.eye(self.x.size)
                    self.fresh = False
                rho = 1.0 / sy
                V = np.eye(self.x.size) - rho * np.outer(s, y)
                self.H = V @ self.H @ V.T + rho * np.outer(s, s)
            if stalled:  # accepted, but the decrease is at rounding level (e.g. closing in on a kink)
                self.done, self.reason = True, "no progress (relative decrease below 1e-14)"


METHODS = ("lbfgsb", "bfgs")


def _build_programs(objective: Callable, sign: float, max_iter: int, tol: float) -> dict[str, Callable]:
    """The compiled pieces of one optimisation: value, value-and-gradient, the vmapped screen and
    the L-BFGS-B steps, each a function of `(x, ..., dynamic args leaves, static args part)`."""
    import jaxopt

    def f(x, a):
        v = sign * objective(x, a)
        return jnp.where(jnp.isfinite(v), v, jnp.inf)

    def vg_raw(x, a):
        return jax.value_and_grad(lambda z: sign * objective(z, a))(x)

    def vg(x, a):
        v, g = vg_raw(x, a)
        bad = ~jnp.isfinite(v) | ~jnp.all(jnp.isfinite(g))
        return jnp.where(bad, jnp.inf, v), jnp.where(bad, 0.0, g)

    solver = jaxopt.LBFGSB(fun=vg, value_and_grad=True, maxiter=max_iter, tol=tol, jit=True)

    def with_args(fn: Callable) -> Callable:
        def program(*xs_dyn_static):
            *xs, dyn, static = xs_dyn_static
            return fn(*xs, merge_args(dyn, static))

        return jax.jit(program, static_argnums=(-1,))

    return {
        "f": with_args(f),
        "vg_raw": with_args(vg_raw),
        "vg": with_args(vg),
        "screen": with_args(lambda Z, a: jax.lax.map(jax.vmap(lambda x: f(x, a)), Z)),
        "init": with_args(lambda x, lo, hi, a: solver.init_state(x, (lo, hi), a)),
        "update": with_args(lambda x, state, lo, hi, a: solver.update(x, state, (lo, hi), a)),
    }


def _programs(objective: Callable, sign: float, max_iter: int, tol: float) -> dict[str, Callable]:
    """`_build_programs`, cached per objective function object and settings (compile once)."""
    return cached(objective, ("optimize", sign, max_iter, tol), lambda: _build_programs(objective, sign, max_iter, tol))


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
    method: str = "lbfgsb",
    probe_evals: int | None = None,
    n_keep: int = 1,
    max_restarts: int = 30,
) -> OptimizeResult:
    """Minimise (or maximise) `objective(x, args)`: a random screen of the box, then local polish.

    **Arguments:**

    - `objective`: scalar, jittable and vmappable (it may solve an equilibrium inside; return NaN
      where that solve fails: non-finite values count as the worst possible).
    - `lower`, `upper`: box bounds (1-D arrays).
    - `maximize`: maximise instead of minimise.
    - `n_screen`: random uniform points screened with `vmap` (in chunks of `screen_chunk`).
    - `n_starts`: best screened points (plus `x0` if given) polished.
    - `method`: the polish. `"lbfgsb"`: L-BFGS-B (`jaxopt.LBFGSB`) within the box, for smooth
      objectives. `"bfgs"`: BFGS with a weak Wolfe line search and restarts (Lewis & Overton
      2013), for piecewise-smooth objectives (relu, caps, water-filling), where L-BFGS-B stops at
      the first kink; it is **unconstrained**: the box only bounds the screen, so use it for
      objectives defined everywhere (the result may lie outside the box).
    - `max_iter`, `tol`: iteration cap per start and tolerance (projected-gradient norm for
      `"lbfgsb"`, gradient norm for `"bfgs"`).
    - `max_restarts`: resets of the quasi-Newton memory: for `"bfgs"` after a failed line search,
      for `"lbfgsb"` after three iterations in a row without a better value (restarted at the
      best point).
    - `probe_evals`, `n_keep`: successive halving. Every start first gets at most `probe_evals`
      value-and-gradient evaluations (an iteration begun is finished); the `n_keep` starts with
      the best values so far then continue, best first. Under a budget each continuing start
      gets an equal share of what is left (unused shares pass to the next), and budget still left
      after them goes to the other probed starts, best first. `None`: every start runs to its
      end in screen order.
    - `seed`: PRNG seed of the screen.
    - `solves_per_eval`: equilibrium solves in one objective evaluation (for the solve count).
    - `max_solve_equivalents`: optional budget. The value-and-gradient cost ratio is then measured
      before polishing (at the first three starts), and evaluations stop when the next one would
      take the running count (screen + every evaluation so far) over the budget. A start that ends
      at once (a flat or stationary screen point) costs little, so the next one gets the rest. The
      timing calls that measure the ratio are not counted. For `"lbfgsb"` the next iteration is assumed to cost as
      much as the dearest one of that start so far, so a line search longer than any before it can
      overshoot the budget by its extra evaluations (`"bfgs"` checks before every evaluation);
      the count reported is the true one.

    **Returns:** an `OptimizeResult` (`x`: the best point evaluated).
    """
    import pandas as pd

    lo = as_float64(lower, "optimize: lower").reshape(-1)
    hi = as_float64(upper, "optimize: upper").reshape(-1)
    if lo.shape != hi.shape:
        raise InputError(f"optimize: lower {lo.shape} and upper {hi.shape} differ in shape")
    if not callable(objective):
        raise InputError(f"optimize: objective must be a function, got {type(objective).__name__}")
    for name, b in (("lower", np.asarray(lo)), ("upper", np.asarray(hi))):  # NumPy: no eager JAX operation
        if not np.all(np.isfinite(b)):
            i = int(np.argmax(~np.isfinite(b)))
            raise InputError(
                f"optimize: {name}[{i}]={float(b[i])}: the box must be finite (it is where points are drawn)"
            )
    if not isinstance(maximize, (bool, np.bool_)):
        raise InputError(f"optimize: maximize must be True or False, got {maximize!r}")
    if x0 is not None and np.size(np.asarray(x0)) != lo.shape[0]:
        raise InputError(f"optimize: x0 has {np.size(np.asarray(x0))} values for a box of {lo.shape[0]} dimensions")
    if bool(jnp.any(lo >= hi)):
        i = int(jnp.argmax(lo >= hi))
        raise InputError(f"optimize: lower[{i}]={float(lo[i])} is not below upper[{i}]={float(hi[i])}")
    if n_starts < 1 or n_screen < 0:
        raise InputError("optimize: need n_starts >= 1 and n_screen >= 0")
    if max_solve_equivalents is not None and not max_solve_equivalents > 0:
        raise InputError(f"optimize: max_solve_equivalents must be > 0, got {max_solve_equivalents}")
    if method not in METHODS:
        raise InputError(f"optimize: method={method!r}; allowed: {', '.join(METHODS)}")
    if probe_evals is not None and (probe_evals < 1 or n_keep < 1):
        raise InputError(f"optimize: need probe_evals >= 1 and n_keep >= 1, got {probe_evals} and {n_keep}")
    d = lo.shape[0]
    sign = -1.0 if maximize else 1.0

    progs = _programs(objective, sign, int(max_iter), float(tol))
    dyn, static = split_args(args)
    if static is None:  # an unhashable static leaf in args: programs for this call only
        progs = _build_programs(objective, sign, int(max_iter), float(tol))

    def f_jit(x):
        return progs["f"](x, dyn, static)

    def vg_raw(x):
        return progs["vg_raw"](x, dyn, static)

    def vg(x):
        return progs["vg"](x, dyn, static)

    # --- screen
    candidates = []
    if n_screen:
        key = jax.random.PRNGKey(seed)
        X = lo[None, :] + (hi - lo)[None, :] * jax.random.uniform(key, (n_screen, d), dtype=jnp.float64)
        chunk = max(1, min(screen_chunk, n_screen))
        pad = (-n_screen) % chunk
        Xp = jnp.concatenate([X, jnp.repeat(X[-1:], pad, axis=0)]) if pad else X
        raw = progs["screen"](Xp.reshape(-1, chunk, d), dyn, static)
        if raw.ndim != 2:  # (chunks, chunk) for a scalar objective
            raise InputError(f"optimize: objective must return a scalar, got shape {tuple(raw.shape[2:])}")
        vals = np.asarray(raw.reshape(-1)[:n_screen])
        order = np.argsort(np.where(np.isfinite(vals), vals, np.inf), kind="stable")
        candidates = [(np.asarray(X[i]), float(vals[i])) for i in order[:n_starts]]
    if x0 is not None:
        x0a = np.clip(np.asarray(as_float64(x0, "optimize: x0")).reshape(-1), np.asarray(lo), np.asarray(hi))
        f0 = f_jit(jnp.asarray(x0a))
        if jnp.ndim(f0) != 0:
            raise InputError(f"optimize: objective must return a scalar, got shape {tuple(jnp.shape(f0))}")
        candidates.insert(0, (x0a, float(f0)))
    if not candidates:
        raise InputError("optimize: nothing to start from (n_screen=0 and no x0)")
    n_value = n_screen + (1 if x0 is not None else 0)

    # --- polish
    ratio = None
    if max_solve_equivalents is not None:
        ratio = _cost_ratio(vg_raw, f_jit, [xs for xs, _ in candidates[:3]])
    if method == "lbfgsb":

        def init(x):
            return progs["init"](x, lo, hi, dyn, static)

        def update(x, state):
            return progs["update"](x, state, lo, hi, dyn, static)

        runs: list[_Run] = [_LBFGSBRun(init, update, xs, max_iter, tol, max_restarts) for xs, _ in candidates]
    else:
        runs = [_BFGSRun(vg, xs, max_iter, tol, max_restarts) for xs, _ in candidates]

    def n_grad_total():
        return sum(r.n_evals for r in runs)

    def can_afford(k):
        return ratio is None or solves_per_eval * (n_value + ratio * (n_grad_total() + k)) <= max_solve_equivalents

    bar = progress(total=len(runs), desc=f"optimize ({method})") if progress_bar else None
    kept = set(range(len(runs)))
    for r in runs:  # in screen order: to the end, or only the probe stage
        r.advance(np.inf if probe_evals is None else probe_evals, can_afford)
        if bar is not None:
            bar.update(1)
    if probe_evals is not None:
        by_value = sorted(range(len(runs)), key=lambda i: runs[i].best_f)
        kept = set(by_value[:n_keep])
        survivors = [i for i in by_value[:n_keep] if not runs[i].done]
        for j, i in enumerate(survivors):
            limit = np.inf
            if ratio is not None and max_solve_equivalents is not None:
                left = max_solve_equivalents / solves_per_eval - n_value - ratio * n_grad_total()
                limit = runs[i].n_evals + max(left / ratio, 0.0) / (len(survivors) - j)
            runs[i].advance(limit, can_afford)
        if ratio is not None:  # budget left over (survivors that stopped early): the next best continue
            for i in by_value[n_keep:]:
                if can_afford(1):
                    kept.add(i)
                    runs[i].advance(np.inf, can_afford)
    if bar is not None:
        bar.close()

    rows, start_rows = [], []
    for s_idx, (r, (_, screen_val)) in enumerate(zip(runs, candidates, strict=False)):
        for it, val, x in r.rows:
            rows.append({"start": s_idx, "iter": it, "value": sign * val, **{f"x{j}": float(x[j]) for j in range(d)}})
        if r.n_evals == 0:
            continue
        start_rows.append(
            {
                "start": s_idx,
                "screen_value": sign * screen_val,
                "final_value": sign * r.best_f,
                "iterations": r.iterations,
                "evals": r.n_evals,
                "restarts": r.restarts,
                "converged": r.converged,
                "kept": s_idx in kept,
                "reason": r.reason,
            }
        )
    n_grad = n_grad_total()
    polished = [r for r in runs if r.n_evals > 0 and r.best_x is not None]
    if polished:
        best = min(polished, key=lambda r: r.best_f)
        xb, fb, gb = best.best_x, best.best_f, best.best_g
        if method == "lbfgsb":
            pg = float(np.max(np.abs(xb - np.clip(xb - gb, np.asarray(lo), np.asarray(hi)))))
        else:
            pg = float(np.max(np.abs(gb)))
        converged = best.converged or pg <= max(tol, 1e-6)
        what = "projected gradient norm" if method == "lbfgsb" else "gradient norm"
        message = "converged" if converged else f"{best.reason}; {what} {pg:.3e} at the best point"
    else:  # the budget allowed no polishing: report the best screened point
        vals = np.array([v for _, v in candidates])
        if not np.isfinite(vals).any():
            raise InputError("optimize: the objective was non-finite at every start (no feasible point found)")
        i = int(np.argmin(np.where(np.isfinite(vals), vals, np.inf)))
        xb, fb, pg, converged = np.asarray(candidates[i][0]), float(vals[i]), float("nan"), False
        message = "budget allowed no polishing: best screened point returned unpolished"
    if not np.isfinite(fb):
        raise InputError("optimize: the objective was non-finite at every start (no feasible point found)")
    if ratio is None:
        ratio = _cost_ratio(vg_raw, f_jit, [xb]) if measure_grad_cost else 1.0
    return OptimizeResult(
        x=xb,
        value=sign * fb,
        converged=converged,
        projected_grad_norm=pg,
        n_value_evals=n_value,
        n_grad_evals=n_grad,
        grad_cost_ratio=ratio,
        solve_equivalents=float(solves_per_eval * (n_value + ratio * n_grad)),
        history=pd.DataFrame(rows),
        starts=pd.DataFrame(start_rows),
        message=message,
    )
