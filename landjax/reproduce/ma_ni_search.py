"""The Table 4 study of Ma & Ni as optimisation problems (study code, not the model).

The four statistics as functions of the rule weights omega (`Table4Problem`; the rule is
`landjax.models.quota_trade.rules`), the paper's random search (chunked, seeded per chunk,
resumable: `random_search`), the gradient search with the engine's `optimize`
(`counted_search`, whose cost is counted work converted by fixed ratios, not timings; the
engine-based `gradient_search` is kept), the efficiency-equity frontier by epsilon-constraints
(`epsilon_frontier`; the weighted-sum `pareto_frontier` is kept) and the local
parameter sensitivities at an optimum (`parameter_sensitivities`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax.data.china import load_dataset
from landjax.errors import InputError
from landjax.models import quota_trade as qt
from landjax.models.quota_trade.equations import residual as _residual_shock
from landjax.models.quota_trade.outcomes import STATISTICS
from landjax.models.quota_trade.rules import (
    OMEGA_LABELS,
    Allocation,
    RuleOptions,
    allocate,
    to_shock,
    uniform_allocation,
)
from landjax.reproduce import published as pub

#: Table 4 objectives: name -> (statistic key, sense).
OBJECTIVES: dict[str, tuple[str, str]] = {
    "max_gdp": ("gdp_change", "max"),
    "min_output_gap": ("output_gap_change", "min"),
    "max_welfare": ("welfare_change", "max"),
    "min_welfare_gap": ("welfare_gap_change", "min"),
}
#: Table 4 of Ma & Ni (percent), rows = objectives, columns = STATISTICS (a view of the published
#: table ``landjax/reproduce/published/ma_ni.csv``).
PAPER_TABLE4: dict[str, tuple[float, float, float, float]] = {
    name: tuple(pub.value("ma_ni", f"table4.{name}.{st}") for st in STATISTICS)  # type: ignore[misc]
    for name in OBJECTIVES
}
#: The paper's one-at-a-time parameter robustness values (section 5(2)), a view of the published table.
PAPER_ROBUSTNESS: tuple[tuple[str, float], ...] = tuple(
    (k.split(".")[0], v) for k, v in pub.values("ma_ni", "robustness").items()
)
SENSITIVITY_PARAMS: tuple[str, ...] = ("alpha", "eta", "kappa", "sigma", "rho")


def _model(model: Any) -> Any:
    return qt if model is None else model


# ----------------------------------------------------------------------------------------------
# Table 4 as optimisation problems
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Table4Problem:
    """Statistics of the quota-trade equilibrium as functions of the rule weights omega.

    Arguments: `baseline` (the model's `Baseline`), `params` (its `Params`), `options`
    (`RuleOptions`), `gap` (the gap measure passed to `model.statistics`), `model`
    (a module with `zero_shock`, `solve`, `statistics`; default `landjax.models.quota_trade`),
    `label` (dataset name, recorded in checkpoints and reports), `solve_options` (passed to
    `model.solve`; default `max_steps=100`: feasible draws converge in about 20-25 damped Picard
    steps, and a draw with no TFP root (eqs. (16)-(17)) would otherwise iterate to the model's default cap of
    1000 and hold up every other member of its vmapped batch; a draw not converged after 100 steps
    is counted as infeasible; `tangent="neumann"`: the implicit-function tangent by a matrix-free
    Neumann series of VJPs; the default dense tangent builds the N x N Jacobian by N JVPs, which made a
    value-and-gradient evaluation cost about 25-370 forward solves at N = 277 instead of about 2
    (the series stops when its terms fall below 1e-16 of the sum);
    both tangents agree to 4e-14 on the Table 4 statistics).
    """

    baseline: Any
    params: Any = None
    options: RuleOptions | None = None
    gap: str = "williamson"
    model: Any = None
    label: str = "default"
    solve_options: tuple[tuple[str, Any], ...] = (("max_steps", 100), ("tangent", "neumann"))

    def __post_init__(self):
        object.__setattr__(self, "model", _model(self.model))
        if self.params is None:
            object.__setattr__(self, "params", self.model.Params())
        # parameter leaves as float64 arrays: equinox rebuilds the args pytree with boolean leaves
        # (filter specs), which a Params validating Python numbers in __post_init__ would reject
        object.__setattr__(
            self, "params", jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype=jnp.float64), self.params)
        )

    # -- evaluation -----------------------------------------------------------------------------
    def shock(self, omega, baseline=None):
        b = self.baseline if baseline is None else baseline
        return to_shock(allocate(omega, b, self.options), b, self.model)

    def stats(self, omega, params=None, baseline=None) -> jax.Array:
        """The four Table 4 statistics (%, order `STATISTICS`); NaN where the equilibrium does
        not exist (no TFP root, eqs. (16)-(17)) or the solver did not converge."""
        b = self.baseline if baseline is None else baseline
        p = self.params if params is None else params
        shock = self.shock(omega, b)
        eq = self.model.solve(b, shock, p, throw=False, **dict(self.solve_options))
        st = self.model.statistics(b, shock, eq, gap=self.gap)
        v = jnp.stack([jnp.asarray(st[k], dtype=jnp.float64) for k in STATISTICS])
        ok = jnp.all(jnp.isfinite(v))
        for flag in ("converged", "feasible"):
            if hasattr(eq, flag):
                ok = ok & jnp.all(jnp.asarray(getattr(eq, flag)))
        return jnp.where(ok, v, jnp.nan)

    def likely_infeasible(self, omega) -> jax.Array:
        """A cheap screen for a missing TFP root (eqs. (16)-(17)) at L-hat = 1: some buyer pays more
        than 90 % of the largest feasible payment `((1-rho)/rho) (rho K)^(1/(1-rho))`,
        K = RY-hat^(1-alpha).  Used only to route draws in `random_search` (it never decides a draw's value)."""
        s = self.shock(omega)
        al, rho = self.params.alpha, self.params.rho
        K = s.RY_hat ** (1.0 - al)
        bound = -((1.0 - rho) / rho) * (rho * K) ** (1.0 / (1.0 - rho))
        return jnp.any(s.f < 0.9 * bound)

    def guarded_stats(self, omega) -> jax.Array:
        """`stats` whose reverse-mode gradient is zero (not an error) at infeasible draws.

        The forward pass is one solve.  The backward pass runs the implicit-function linear solve
        only where the statistics are finite: at an infeasible point the engine's linear solver
        would otherwise receive NaN and raise (see the module notes); the optimiser then sees a
        non-finite value and treats the point as the worst possible."""
        return _grad_guard(self.stats)(jnp.asarray(omega, dtype=jnp.float64))

    def objective(self, name: str) -> tuple[Callable[[jax.Array, Any], jax.Array], bool]:
        """`(f(omega, args) -> scalar, maximize)` for a Table 4 objective or a statistic name
        (reverse-mode differentiable; see `guarded_stats`)."""
        key, sense = _objective_key(name)
        i = STATISTICS.index(key)
        return (lambda omega, args=None: self.guarded_stats(omega)[i]), sense == "max"

    def fingerprint(self) -> str:
        """A short hash of everything that changes the random-search values (for checkpoints)."""
        leaves = jax.tree_util.tree_leaves((self.baseline, self.params))
        h = hashlib.sha256()
        for leaf in leaves:
            h.update(np.asarray(leaf, dtype=np.float64).tobytes())
        values_options = tuple(kv for kv in self.solve_options if kv[0] != "tangent")  # tangents change no value
        h.update(repr((self.options, self.gap, self.label, values_options)).encode())
        return h.hexdigest()[:12]


def table4_problem(
    dataset: Any = None,
    params: Any = None,
    options: RuleOptions | None = None,
    *,
    gap: str = "williamson",
    **build_options: Any,
) -> Table4Problem:
    """The Table 4 problem on a quota-trade dataset (`None`: the default dataset), built with
    `landjax.models.quota_trade.build_baseline(dataset, params, **build_options)`."""
    options = RuleOptions() if options is None else options
    ds = load_dataset(dataset) if dataset is None or isinstance(dataset, (str, Path)) else dataset
    p = qt.Params() if params is None else params
    b = qt.build_baseline(ds, p, **build_options)
    label = str(getattr(ds, "name", dataset if dataset is not None else "default"))
    return Table4Problem(b, p, options, gap=gap, model=qt, label=label)


def _grad_guard(fn: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """Wrap `fn` (vector -> vector) so that its VJP is computed only when its value is finite."""

    @jax.custom_vjp
    def g(x):
        return fn(x)

    def fwd(x):
        v, vjp_fn = jax.vjp(fn, x)
        return v, (jnp.all(jnp.isfinite(v)), vjp_fn, x)

    def bwd(res, ct):
        ok, vjp_fn, x = res
        ct = jnp.where(jnp.isfinite(ct), ct, 0.0)
        return (jax.lax.cond(ok, lambda c: vjp_fn(c)[0], lambda c: jnp.zeros_like(x), ct),)

    g.defvjp(fwd, bwd)
    return g


def _objective_key(name: str) -> tuple[str, str]:
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if name in STATISTICS:
        return name, "max" if name in ("gdp_change", "welfare_change") else "min"
    raise InputError(f"unknown objective {name!r}; known: {', '.join(OBJECTIVES)} or {', '.join(STATISTICS)}")


# ---- random search (the paper's method) ---------------------------------------------------------


def draw_omegas(seed: int, chunk: int, chunk_size: int) -> jax.Array:
    """The `chunk`-th block of uniform draws in [-1, 1]^12 (key = fold_in(PRNGKey(seed), chunk))."""
    key = jax.random.fold_in(jax.random.PRNGKey(seed), chunk)
    return jax.random.uniform(key, (chunk_size, 12), dtype=jnp.float64, minval=-1.0, maxval=1.0)


@dataclasses.dataclass(frozen=True)
class RandomSearchResult:
    """All statistics of every draw of a random search (rows in draw order).

    `values`: (n, 4) statistics, NaN for infeasible draws; `chunks`: the chunk indices covered;
    `seconds`: evaluation time (excluding compilation when measured; chunks loaded from disk count 0).
    """

    values: np.ndarray
    chunks: tuple[int, ...]
    chunk_size: int
    seed: int
    seconds: float
    compile_seconds: float
    n_computed_chunks: int = 0

    @property
    def n_draws(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_infeasible(self) -> int:
        return int(np.sum(~np.all(np.isfinite(self.values), axis=1)))

    def best(self, name: str) -> tuple[int, float]:
        """(draw index, value) of the best feasible draw for an objective; infeasible draws excluded."""
        key, sense = _objective_key(name)
        col = self.values[:, STATISTICS.index(key)]
        ok = np.all(np.isfinite(self.values), axis=1)
        if not ok.any():
            raise InputError("random search: every draw was infeasible")
        score = np.where(ok, col if sense == "max" else -col, -np.inf)
        i = int(np.argmax(score))
        return i, float(col[i])

    def omega(self, index: int) -> np.ndarray:
        """Regenerate the weights of draw `index` from the seed (draws are not stored)."""
        c, j = divmod(index, self.chunk_size)
        return np.asarray(draw_omegas(self.seed, self.chunks[c], self.chunk_size)[j])

    def best_of_n(self, name: str, ns: Sequence[int]) -> pd.DataFrame:
        """Best feasible value among the first N draws, for each N in `ns` (N <= n_draws)."""
        key, sense = _objective_key(name)
        col = self.values[:, STATISTICS.index(key)]
        ok = np.all(np.isfinite(self.values), axis=1)
        score = np.where(ok, col if sense == "max" else -col, -np.inf)
        run = np.maximum.accumulate(score)
        rows = []
        for n in ns:
            if n <= len(run):
                b = run[n - 1]
                rows.append({"objective": name, "N": int(n), "best_value": float(b if sense == "max" else -b)})
        return pd.DataFrame(rows)


_COMPILED: dict = {}


def random_search(
    problem: Table4Problem,
    n_draws: int,
    *,
    seed: int = 0,
    chunk_size: int = 1000,
    chunks: Sequence[int] | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    batch: int = 100,
    slow_batch: int = 1,
    slow_max_steps: int = 30,
    progress_bar: bool = True,
) -> RandomSearchResult:
    """The paper's method (section 4(4)): uniform random omega in [-1, 1]^12, evaluated with `vmap`.

    Draws come in chunks of `chunk_size`; chunk k uses the key `fold_in(PRNGKey(seed), k)`, so
    any subset of chunks (`chunks=range(a, b)`) can run in another process and the union equals a
    single run.  With `checkpoint_dir` every finished chunk is saved as `.npz` (named by the
    problem's fingerprint, seed and chunk size) and, with `resume=True`, loaded instead of
    recomputed.  Within a chunk, `batch` draws are vmapped at a time.
    Infeasible draws (no TFP root, or a non-converged solve) are kept as NaN rows, counted by
    `n_infeasible` and excluded by `best`.
    """
    from landjax._io import progress

    if n_draws <= 0 or chunk_size <= 0:
        raise InputError("random_search: n_draws and chunk_size must be positive")
    if chunks is None:
        chunks = range(-(-n_draws // chunk_size))
    chunks = tuple(int(c) for c in chunks)
    batch = max(1, min(batch, chunk_size))
    ck = Path(checkpoint_dir) if checkpoint_dir is not None else None
    tag = f"{problem.fingerprint()}_seed{seed}_cs{chunk_size}_slow{slow_max_steps}"
    if ck is not None:
        ck.mkdir(parents=True, exist_ok=True)

    # Draws screened as likely infeasible (no TFP root) go to a separate small-batch path with at most
    # ``slow_max_steps`` Picard steps: inside a vmapped batch every member waits for the slowest,
    # and a member with no TFP root never converges.  Every draw is solved either way; the screen
    # only routes (a draw on the slow path that does not converge in ``slow_max_steps`` steps counts
    # as infeasible; feasible draws converge in about 20-25 steps).
    key = (id(problem), batch, slow_batch, int(slow_max_steps))
    if key not in _COMPILED:  # one compilation per problem and batch shape (kept with the problem alive)
        slow_problem = dataclasses.replace(problem, solve_options=(("max_steps", int(slow_max_steps)),))
        _COMPILED[key] = (
            problem,
            {},
            jax.jit(jax.vmap(problem.stats)),
            jax.jit(jax.vmap(slow_problem.stats)),
            jax.jit(jax.vmap(problem.likely_infeasible)),
        )
    _, compiled, fast, slow, screen = _COMPILED[key]
    sizes = {"fast": batch, "slow": slow_batch}

    def evaluate(om: np.ndarray) -> np.ndarray:
        pred = np.asarray(screen(om))
        vals = np.full((om.shape[0], 4), np.nan)
        for idx, fn, size in (
            (np.flatnonzero(~pred), compiled["fast"], sizes["fast"]),
            (np.flatnonzero(pred), compiled["slow"], sizes["slow"]),
        ):
            for s0 in range(0, idx.size, size):
                sel = idx[s0 : s0 + size]
                padded = np.concatenate([sel, np.repeat(sel[-1:], size - sel.size)])
                vals[sel] = np.asarray(fn(om[padded]))[: sel.size]
        return vals

    out, seconds, compile_s, n_computed = [], 0.0, 0.0, 0
    bar = progress(total=len(chunks) * chunk_size, desc="random search", unit="draw") if progress_bar else None
    for c in chunks:
        path = ck / f"chunk_{tag}_{c:06d}.npz" if ck is not None else None
        if path is not None and resume and path.exists():
            vals = np.load(path)["values"]
        else:
            om = np.asarray(draw_omegas(seed, c, chunk_size))
            if not compiled:
                t0 = time.perf_counter()  # ahead-of-time: compile time measured apart
                compiled["fast"] = fast.lower(jnp.zeros((batch, 12))).compile()
                compiled["slow"] = slow.lower(jnp.zeros((slow_batch, 12))).compile()
                screen(om[:1])
                compile_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            vals = evaluate(om)
            dt = time.perf_counter() - t0
            seconds += dt
            n_computed += 1
            if path is not None:
                tmp = path.with_suffix(".tmp.npz")
                np.savez(tmp, values=vals, chunk=c, seed=seed, chunk_size=chunk_size)
                tmp.replace(path)
        out.append(vals)
        if bar is not None:
            bar.update(chunk_size)
    if bar is not None:
        bar.close()
    values = np.concatenate(out)[: n_draws if len(chunks) * chunk_size >= n_draws else None]
    return RandomSearchResult(
        values=values,
        chunks=chunks,
        chunk_size=chunk_size,
        seed=seed,
        seconds=seconds,
        compile_seconds=compile_s,
        n_computed_chunks=n_computed,
    )


# ---- gradient search -----------------------------------------------------------------------------


def normalise_omega(omega) -> np.ndarray:
    """Each block of three weights (one pool: land type x side) divided by its largest absolute value.

    The rule is invariant to a positive rescaling of any block (scores `max(0, omega . x)` are
    positively homogeneous and every share is a ratio of scores), so the statistics are unchanged;
    the result lies in the paper's box [-1, 1]^12 with one weight of each block at +-1.  A block of
    zeros is left as it is."""
    w = np.array(omega, dtype=np.float64).reshape(4, 3)
    m = np.max(np.abs(w), axis=1, keepdims=True)
    return (w / np.where(m > 0, m, 1.0)).reshape(12)


def gradient_search(
    problem: Table4Problem,
    name: str,
    *,
    n_screen: int = 64,
    n_starts: int = 3,
    max_iter: int = 60,
    tol: float = 1e-7,
    seed: int = 0,
    x0=None,
    progress_bar: bool = True,
    max_solve_equivalents: float | None = None,
    method: str = "bfgs",
    probe_evals: int | None = None,
    n_keep: int = 1,
):
    """Optimise one Table 4 objective over omega with the engine's `optimize` (vmapped screen of
    [-1, 1]^12, then multistart polish with implicit gradients).  Returns the engine's
    `OptimizeResult` (its `solve_equivalents` counts every equilibrium solve).

    `method="bfgs"` (default): BFGS with a weak Wolfe line search, which keeps going across the
    rule's kinks (scores cut at zero, caps, the top-up) where L-BFGS-B stops.  It is unconstrained,
    which loses nothing here: the rule depends on each block of three weights only through its
    direction (see `normalise_omega`), so every allocation the box can express is reached
    and the result is mapped back into the box with the same statistics.  `method="lbfgsb"`:
    L-BFGS-B within the box.  `probe_evals`/`n_keep`: successive halving (every start probed
    with that many value-and-gradient evaluations, the best `n_keep` continued).  With
    `max_solve_equivalents` evaluations stop at that budget (a start stuck on a flat piece of the
    rule, where no score is positive, costs little)."""
    from landjax.engine.optimize import optimize

    f, maximize = problem.objective(name)
    res = optimize(
        f,
        -jnp.ones(12),
        jnp.ones(12),
        None,
        maximize=maximize,
        n_screen=n_screen,
        n_starts=n_starts,
        max_iter=max_iter,
        tol=tol,
        seed=seed,
        x0=x0,
        screen_chunk=max(1, min(64, n_screen or 1)),
        progress_bar=progress_bar,
        max_solve_equivalents=max_solve_equivalents,
        method=method,
        probe_evals=probe_evals,
        n_keep=n_keep,
    )
    if method == "bfgs":
        res = dataclasses.replace(res, x=normalise_omega(res.x))
    return res


# ---- counted work: solve-equivalents from map and VJP applications, not from timing ------------

#: Fixed cost ratios of the counted work, measured once with
#: ``python benchmarks/optimal_allocation.py --measure-costs`` (:func:`measure_cost_ratios`; 2026-12-02
#: 18:03 UTC, AMD EPYC, 2 cores shared by several sessions (1-min load 5.6), JAX 0.10.2 cpu,
#: china_semireal, N = 277, 38 feasible draws; see benchmarks/RESULTS.md).  Unit: one application
#: of the equilibrium map (eqs. (9)-(10)).  ``VJP_PER_MAP``: one transposed-Jacobian application
#: (a VJP of the map); ``GRAD_FIXED_MAPS``: the fixed part of a gradient (linearising the map and
#: the statistics, the VJP with respect to omega); ``VALUE_FIXED_MAPS``: the fixed part of a value
#: (the rule, the shock, the statistics); ``MAPS_PER_SOLVE``: the mean work of one random draw
#: (13.9 counted map applications + ``VALUE_FIXED_MAPS``), the unit of one solve-equivalent.  The
#: VJP counts vary little between points (about 55), so the split of a gradient's cost between
#: ``VJP_PER_MAP`` and ``GRAD_FIXED_MAPS`` is poorly identified; their total (a gradient about 1.2
#: solve-equivalents) is what the measurement fixes.
VJP_PER_MAP = 0.07
GRAD_FIXED_MAPS = 22.8
VALUE_FIXED_MAPS = 8.4
MAPS_PER_SOLVE = 22.3


@dataclasses.dataclass
class WorkCount:
    """Work done by counted evaluations: `maps` (forward map applications, `steps + 1` per
    solve), `vjps` (transposed-Jacobian applications of the adjoint Neumann series), `values`
    and `grads` (evaluations); `solve_equivalents` converts them with the fixed ratios."""

    maps: int = 0
    vjps: int = 0
    values: int = 0
    grads: int = 0

    @property
    def map_units(self) -> float:
        return self.maps + VALUE_FIXED_MAPS * self.values + VJP_PER_MAP * self.vjps + GRAD_FIXED_MAPS * self.grads

    @property
    def solve_equivalents(self) -> float:
        return self.map_units / MAPS_PER_SOLVE

    def copy(self) -> WorkCount:
        return dataclasses.replace(self)


class CountedProblem:
    """Value and implicit gradient of the Table 4 statistics with the work of every call counted.

    A value evaluation solves the equilibrium (Anderson on the map of eqs. (9)-(10), as
    `Table4Problem.stats`) and counts its `steps + 1` map applications.  A gradient of
    `c . stats` at the solution x* is the adjoint of the implicit function theorem,
    `lam = (I - J^T)^{-1} dS/dx`, `dJ/domega = dS/domega + (dg/domega)^T lam` (J = dg/dx), by
    the Neumann series `lam = sum_k (J^T)^k dS/dx` until a term is below 1e-16 of the sum (at
    most `neumann_steps` terms; the engine's rule), each term one VJP, counted.  The counts, not
    timings, give the cost: the same calls give the same counts on an idle or a loaded machine.
    """

    def __init__(self, problem: Table4Problem, *, max_steps: int | None = None, neumann_steps: int = 200):
        self.problem = problem
        self.work = WorkCount()
        opts = dict(problem.solve_options)
        if max_steps is not None:
            opts["max_steps"] = int(max_steps)
        opts.pop("tangent", None)
        self._solve_opts = opts
        self.neumann_steps = int(neumann_steps)
        self._value = jax.jit(self._value_impl)
        self._value_batch = jax.jit(jax.vmap(self._value_impl))
        self._grad = jax.jit(self._grad_impl)

    # -- traced pieces --------------------------------------------------------------------------
    def _value_impl(self, omega):
        pr = self.problem
        b, p = pr.baseline, pr.params
        shock = pr.shock(omega)
        eq = pr.model.solve(b, shock, p, throw=False, **self._solve_opts)
        st = pr.model.statistics(b, shock, eq, gap=pr.gap)
        v = jnp.stack([jnp.asarray(st[k], dtype=jnp.float64) for k in STATISTICS])
        ok = jnp.all(jnp.isfinite(v)) & jnp.all(jnp.asarray(eq.converged)) & jnp.all(jnp.asarray(eq.feasible))
        return jnp.where(ok, v, jnp.nan), jnp.log(eq.L_hat), jnp.asarray(eq.steps, dtype=jnp.int64) + 1, ok

    def _grad_impl(self, omega, x, c):
        pr = self.problem
        b, p, model = pr.baseline, pr.params, pr.model
        x = jax.lax.stop_gradient(x)

        def g(xx, w):  # the map of eqs. (9)-(10): residual + x
            shock = pr.shock(w)
            return _residual_shock(xx, b, shock, p) + xx

        def s(xx, w):
            shock = pr.shock(w)
            flags = _Flags(jnp.asarray(True), jnp.asarray(0.0), jnp.asarray(0), jnp.asarray(0))
            eq = model.equilibrium_at(xx, b, shock, p, sol=flags)
            st = model.statistics(b, shock, eq, gap=pr.gap)
            return jnp.dot(c, jnp.stack([jnp.asarray(st[k], dtype=jnp.float64) for k in STATISTICS]))

        sx, sw = jax.grad(s, argnums=(0, 1))(x, omega)
        _, vjp_x = jax.vjp(lambda xx: g(xx, omega), x)
        _, vjp_w = jax.vjp(lambda w: g(x, w), omega)

        def cond(carry):
            term, acc, k = carry
            small = jnp.max(jnp.abs(term)) <= 1e-16 * jnp.max(jnp.abs(acc))
            return (k < self.neumann_steps) & ~small

        def body(carry):
            term, acc, k = carry
            term = vjp_x(term)[0]
            return term, acc + term, k + 1

        _, lam, k = jax.lax.while_loop(cond, body, (sx, sx, jnp.asarray(0, dtype=jnp.int64)))
        return sw + vjp_w(lam)[0], k + 1  # + 1: the VJP with respect to omega

    # -- counted calls ----------------------------------------------------------------------------
    def value(self, omega) -> tuple[np.ndarray, np.ndarray]:
        """`(stats (4,), x*)` at `omega` (NaN stats where infeasible or not converged); counted."""
        v, x, n, _ = self._value(jnp.asarray(omega, dtype=jnp.float64))
        self.work.maps += int(n)
        self.work.values += 1
        return np.asarray(v), np.asarray(x)

    def values(self, omegas, n_real: int | None = None) -> np.ndarray:
        """Statistics of a batch of weights (vmapped); each member's own steps are counted (only the
        first `n_real` members: the rest are padding)."""
        v, _, n, _ = self._value_batch(jnp.asarray(omegas, dtype=jnp.float64))
        n = np.asarray(n)[: n_real if n_real is not None else None]
        self.work.maps += int(np.sum(n))
        self.work.values += int(n.shape[0])
        return np.asarray(v)

    def gradient(self, omega, x, c) -> np.ndarray:
        """Gradient of `c . stats` at `omega` given its solution `x` (from `value`); counted."""
        gw, k = self._grad(jnp.asarray(omega, dtype=jnp.float64), jnp.asarray(x), jnp.asarray(c, dtype=jnp.float64))
        self.work.vjps += int(k)
        self.work.grads += 1
        return np.asarray(gw)

    def value_and_grad(self, omega, c) -> tuple[float, np.ndarray, np.ndarray]:
        """`(c . stats, gradient, stats)`; the gradient is zero (and not computed) where the
        statistics are not finite."""
        v, x = self.value(omega)
        if not np.all(np.isfinite(v)):
            return float("nan"), np.zeros(12), v
        return float(np.dot(c, v)), self.gradient(omega, x, c), v


def measure_cost_ratios(problem: Table4Problem, *, n_points: int = 40, repeats: int = 5, seed: int = 0) -> dict:
    """Measure, once, the fixed ratios of `WorkCount` (never called by a search).

    Value and gradient of `n_points` uniform draws are timed (best of `repeats`); least squares
    `t_value = a + b * maps` and `t_grad = c + d * vjps` give the map-application time `b`;
    `VJP_PER_MAP = d / b`, `VALUE_FIXED_MAPS = a / b`, `GRAD_FIXED_MAPS = c / b`, and
    `MAPS_PER_SOLVE` is the mean counted work of one draw (its maps + `VALUE_FIXED_MAPS`).
    Returns these with the raw fits."""
    cp = CountedProblem(problem)
    c = np.array([-1.0, 0.0, 0.0, 0.0])
    W = np.asarray(draw_omegas(seed, 0, n_points))
    rows = []
    for w in W:
        v, x = cp.value(w)
        if not np.all(np.isfinite(v)):
            continue
        m0, j0 = cp.work.maps, cp.work.vjps
        cp.value(w)
        maps = cp.work.maps - m0
        cp.gradient(w, x, c)
        vjps = cp.work.vjps - j0
        tv, tg = np.inf, np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(cp._value(jnp.asarray(w)))
            tv = min(tv, time.perf_counter() - t0)
            t0 = time.perf_counter()
            jax.block_until_ready(cp._grad(jnp.asarray(w), jnp.asarray(x), jnp.asarray(c)))
            tg = min(tg, time.perf_counter() - t0)
        rows.append((maps, vjps, tv, tg))
    r = np.asarray(rows, dtype=np.float64)
    a, b = np.polyfit(r[:, 0], r[:, 2], 1)[::-1]
    c0, d = np.polyfit(r[:, 1], r[:, 3], 1)[::-1]
    b = max(b, 1e-12)
    value_fixed = max(a, 0.0) / b
    return {
        "VJP_PER_MAP": max(d, 0.0) / b,
        "VALUE_FIXED_MAPS": value_fixed,
        "GRAD_FIXED_MAPS": max(c0, 0.0) / b,
        "MAPS_PER_SOLVE": float(np.mean(r[:, 0])) + value_fixed,
        "seconds_per_map": b,
        "n_points": int(len(r)),
        "mean_maps": float(np.mean(r[:, 0])),
        "mean_vjps": float(np.mean(r[:, 1])),
        "mean_value_seconds": float(np.mean(r[:, 2])),
        "mean_grad_seconds": float(np.mean(r[:, 3])),
    }


class _Flags(NamedTuple):
    converged: Any
    residual_norm: Any
    steps: Any
    code: Any


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """Outcome of `counted_search`: the best weights (in the paper's box), their value in the
    objective's sense and statistics, the counted `work` and its solve-equivalents, and one row
    per local run (`runs`: kind, start value, final value, evaluations)."""

    x: np.ndarray
    value: float
    stats: np.ndarray
    work: WorkCount
    solve_equivalents: float
    runs: pd.DataFrame


def _screen_points(n: int, seed: int, kind: str) -> np.ndarray:
    if kind == "sobol":
        from scipy.stats import qmc

        return 2.0 * qmc.Sobol(12, scramble=True, seed=seed).random(n) - 1.0
    return np.asarray(jax.random.uniform(jax.random.PRNGKey(seed), (n, 12), dtype=jnp.float64, minval=-1.0, maxval=1.0))


def counted_search(
    problem: Table4Problem | CountedProblem,
    name: str,
    *,
    budget: float = 1950.0,
    n_screen: int = 200,
    rounds: Sequence[tuple[int, float]] | None = ((16, 15), (4, 90), (1, 240)),
    n_starts: int = 20,
    probe_evals: int = 15,
    n_keep: int = 3,
    restarts: str = "block",
    restart_evals: int = 40,
    restart_scale: float = 0.3,
    screen: str = "uniform",
    seed: int = 0,
    max_iter: int = 1000,
    tol: float = 1e-9,
    batch: int = 50,
    x0: Any = None,
    lazy_gradients: bool = True,
) -> SearchResult:
    """Gradient search for one Table 4 objective with every unit of work counted (no timing).

    1. Screen `n_screen` points of [-1, 1]^12 (`screen="uniform"`: the engine's seeded uniform
       draws; `"sobol"`: a scrambled Sobol sequence), vmapped in batches of `batch`; the screen is
       charged to the budget, and a batch that would take the count over it is not screened (the
       first batch always is).
    2. BFGS with a weak Wolfe line search (the engine's nonsmooth BFGS, Lewis & Overton 2013) from
       the best screened points, run as successive halving: `rounds = ((n1, e1), (n2, e2), ...)`
       starts the best `n1` screened points and advances each to `e1` evaluations, then the best
       `n2` runs (by their best value; a run that has ended keeps its place but costs nothing more)
       to `e2` evaluations, and so on; a limit `inf` shares the budget left equally.
       `rounds=None` is the older two-stage plan: `n_starts` starts probed with `probe_evals`
       evaluations, the best `n_keep` continued with equal shares of the budget left.
    3. Budget still left: restarts from the incumbent optimum, `restart_evals` evaluations each.
       `restarts="block"` (default): a vmapped batch of `batch` candidates, each the incumbent
       with one of its four weight blocks (productive sell, productive buy, residential sell,
       residential buy; blocks in turn) redrawn uniformly in the box at the incumbent block's
       scale, is evaluated (charged), and BFGS starts from the best candidate.  Each block sets one
       side of one market through the active set of its positive scores, so a redrawn block moves
       to another active set (another corner of the rule) while the other three keep theirs.
       `restarts="perturb"`: the incumbent plus `restart_scale` times a seeded normal draw.
       `restarts="none"`: no restarts.

    `lazy_gradients`: a trial point of a line search is evaluated by value first, and its
    gradient only when the point passes the Armijo test (the iterates are the same; a rejected
    trial costs a value, not a value and gradient).  The budget is in solve-equivalents of counted
    work (`WorkCount`); an evaluation is made only if the count after it stays within the budget
    assuming it costs as much as the dearest evaluation so far, so the same call gives the same
    counts and the same result on any machine load.  BFGS runs unconstrained (the rule depends on
    each block of three weights only through its direction, `normalise_omega`); the result is
    mapped back into the box.  `x0`: a start polished before the screened ones (e.g. the best
    random draw).
    """
    from landjax.engine.optimize import _BFGSRun

    if restarts not in ("block", "perturb", "none"):
        raise InputError(f"counted_search: restarts={restarts!r}; allowed: block, perturb, none")
    if rounds is None:
        plan: list[tuple[int, float]] = [(int(n_starts), float(probe_evals)), (int(n_keep), np.inf)]
    else:
        plan = [(int(n), float(e)) for n, e in rounds]
        if not plan or any(n < 1 or e < 1 for n, e in plan):
            raise InputError(f"counted_search: rounds must be (starts >= 1, evaluations >= 1) pairs, got {rounds!r}")
    cp = problem if isinstance(problem, CountedProblem) else CountedProblem(problem)
    key, sense = _objective_key(name)
    i = STATISTICS.index(key)
    c = np.zeros(4)
    c[i] = -1.0 if sense == "max" else 1.0
    start = cp.work.copy()

    def used() -> float:
        return cp.work.solve_equivalents - start.solve_equivalents

    dearest = [0.0]
    dearest_part = [0.0, 0.0]  # dearest value-only evaluation, dearest gradient

    def vg(x):
        before = cp.work.solve_equivalents
        v, g, _ = cp.value_and_grad(np.asarray(x), c)
        dearest[0] = max(dearest[0], cp.work.solve_equivalents - before)
        return v, g

    def value_only(x):
        before = cp.work.solve_equivalents
        st, xs = cp.value(np.asarray(x))
        dearest_part[0] = max(dearest_part[0], cp.work.solve_equivalents - before)
        dearest[0] = max(dearest[0], sum(dearest_part))
        v = float(np.dot(c, st))
        return (v if np.isfinite(v) else np.inf), xs

    def grad_at(x, xs):
        before = cp.work.solve_equivalents
        g = cp.gradient(np.asarray(x), xs, c)
        dearest_part[1] = max(dearest_part[1], cp.work.solve_equivalents - before)
        dearest[0] = max(dearest[0], sum(dearest_part))
        return g

    lazy = (value_only, grad_at) if lazy_gradients else None

    def can_afford(k):
        return used() + k * dearest[0] <= budget

    dearest_batch = [0.0]

    def batch_values(P: np.ndarray) -> np.ndarray:
        """Objective values (minimisation form, inf where infeasible) of up to `batch` points, charged."""
        pad = np.concatenate([P, np.repeat(P[-1:], batch - len(P), axis=0)])
        before = cp.work.solve_equivalents
        v = cp.values(pad, n_real=len(P))[: len(P)]
        dearest_batch[0] = max(dearest_batch[0], cp.work.solve_equivalents - before)
        return np.where(np.all(np.isfinite(v), axis=1), v @ c, np.inf)

    X = _screen_points(n_screen, seed, screen) if n_screen else np.zeros((0, 12))
    vals: list[np.ndarray] = []
    for s0 in range(0, len(X), batch):
        # the screen is charged to the budget too: a batch is screened only if the count after it
        # stays within the budget, assuming it costs as much as the dearest batch so far
        if vals and used() + dearest_batch[0] > budget:
            break
        vals.append(batch_values(X[s0 : s0 + batch]))
    score = np.concatenate(vals) if vals else np.zeros(0)
    X = X[: len(score)]
    order = np.argsort(score, kind="stable")[: plan[0][0]]
    runs = [_BFGSRun(vg, X[j], max_iter, tol, 30, lazy=lazy) for j in order if np.isfinite(score[j])]
    kinds = ["screen"] * len(runs)
    starts = [float(score[j]) for j in order if np.isfinite(score[j])]
    if x0 is not None:
        runs.insert(0, _BFGSRun(vg, np.asarray(x0, dtype=np.float64), max_iter, tol, 30, lazy=lazy))
        kinds.insert(0, "x0")
        starts.insert(0, float("nan"))
    alive = list(range(len(runs)))
    for r_i, (n, limit) in enumerate(plan):
        if r_i:  # later rounds: the best n runs so far
            alive = sorted(alive, key=lambda k: runs[k].best_f)[:n]
        if np.isfinite(limit):
            for k in alive:
                runs[k].advance(limit, can_afford)
            continue
        going = [k for k in alive if not runs[k].done]
        for j, k in enumerate(going):  # equal shares of the budget left
            if dearest[0] > 0:
                left = budget - used()
                lim = runs[k].n_evals + max(left / dearest[0], 0.0) / (len(going) - j)
            else:
                lim = np.inf
            runs[k].advance(lim, can_afford)
    rng = np.random.default_rng(seed)
    hop = 0
    while runs and restarts != "none" and restart_evals > 0:
        best = min(runs, key=lambda r: r.best_f)
        if best.best_x is None:
            break
        inc = normalise_omega(best.best_x)
        if restarts == "block":
            # a batch costs at most as much as the dearest batch so far (or, before any batch, as
            # `batch` of the dearest evaluations): the count after it stays within the budget
            per_batch = dearest_batch[0] if dearest_batch[0] > 0 else batch * dearest[0]
            if used() + per_batch + (restart_evals // 3 + 1) * dearest[0] > budget:
                break
            C = np.repeat(inc[None, :], batch, axis=0)
            for m in range(batch):
                blk = (hop + m) % 4
                scale = max(float(np.max(np.abs(inc[3 * blk : 3 * blk + 3]))), 1e-3)
                C[m, 3 * blk : 3 * blk + 3] = scale * rng.uniform(-1.0, 1.0, 3)
            hop += batch
            v = batch_values(C)
            if not np.any(np.isfinite(v)):
                continue
            x0 = C[int(np.argmin(v))]
        else:
            if not can_afford(restart_evals // 3 + 1):
                break
            x0 = inc + restart_scale * rng.standard_normal(12)
        r = _BFGSRun(vg, x0, max_iter, tol, 30, lazy=lazy)
        r.advance(restart_evals, can_afford)
        runs.append(r)
        kinds.append("restart")
        starts.append(float(r.rows[0][1]) if r.rows else float("nan"))
        if r.n_evals == 0:
            break
    done = [r for r in runs if r.best_x is not None]
    if done:
        best = min(done, key=lambda r: r.best_f)
        x = normalise_omega(best.best_x)
    elif len(order):  # nothing polished: the best screened point
        x = np.asarray(X[order[0]])
    else:
        raise InputError("counted_search: nothing to start from (no screen and no x0)")
    v = np.asarray(cp.problem.stats(jnp.asarray(x)))  # uncounted: the report's own check of the optimum
    work = WorkCount(*(getattr(cp.work, f) - getattr(start, f) for f in ("maps", "vjps", "values", "grads")))
    table = pd.DataFrame(
        {
            "kind": kinds,
            "start_value": [float(-s if sense == "max" else s) for s in starts],
            "final_value": [float(-r.best_f if sense == "max" else r.best_f) for r in runs],
            "evals": [r.n_evals for r in runs],
            "reason": [r.reason for r in runs],
        }
    )
    return SearchResult(
        x=x, value=float(v[i]), stats=v, work=work, solve_equivalents=work.solve_equivalents, runs=table
    )


def projected_gradient(problem: Table4Problem, name: str, omega) -> np.ndarray:
    """`omega - clip(omega - grad, -1, 1)` for the objective in minimisation form (0 at a box-KKT point)."""
    f, maximize = problem.objective(name)
    g = jax.grad(lambda w: (-1.0 if maximize else 1.0) * f(w, None))(jnp.asarray(omega))
    w = jnp.asarray(omega)
    return np.asarray(w - jnp.clip(w - g, -1.0, 1.0))


# ---- efficiency-equity frontier ----------------------------------------------------------------


class WeightedPolisher:
    """L-BFGS-B (scipy) on `c . stats(omega)` over [-1, 1]^12 with one compiled value-and-gradient
    function for every weight vector `c` (the engine's `optimize` compiles per objective, which
    is the dominant cost when tracing a frontier of many weighted objectives).

    `n_value_and_grad` counts the value-and-gradient evaluations made so far."""

    def __init__(self, problem: Table4Problem):
        self.problem = problem
        self._vg = jax.jit(jax.value_and_grad(lambda w, c: jnp.dot(c, problem.guarded_stats(w))))
        self.n_value_and_grad = 0

    def __call__(self, c: Sequence[float] | np.ndarray, x0, *, max_iter: int = 40, tol: float = 1e-7):
        """Minimise `c . stats` from `x0`; returns `(omega, value, n_evals, projected_grad_norm)`."""
        from scipy.optimize import minimize

        cj = jnp.asarray(c, dtype=jnp.float64)
        n0 = self.n_value_and_grad

        def fun(x):
            self.n_value_and_grad += 1
            v, g = self._vg(jnp.asarray(x), cj)
            v, g = float(v), np.asarray(g, dtype=np.float64)
            if not np.isfinite(v) or not np.all(np.isfinite(g)):
                return 1e6, np.zeros(12)
            return v, g

        res = minimize(
            fun,
            np.clip(np.asarray(x0, dtype=np.float64), -1, 1),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-1.0, 1.0)] * 12,
            options={"maxiter": max_iter, "gtol": tol},
        )
        x = np.asarray(res.x)
        v, g = fun(x)
        pg = float(np.max(np.abs(x - np.clip(x - g, -1.0, 1.0))))
        return x, v, self.n_value_and_grad - n0, pg


def pareto_frontier(
    problem: Table4Problem,
    efficiency: str = "gdp_change",
    equity: str = "output_gap_change",
    *,
    weights: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0),
    x0=None,
    max_iter: int = 40,
    polisher: WeightedPolisher | None = None,
    anchors: Sequence[Any] = (),
) -> pd.DataFrame:
    """Trace the efficiency-equity frontier by weighted sums (scalarisation): for t in `weights`
    minimise `-(1 - t) * efficiency + t * equity` (efficiency: a % gain to raise; equity: a %
    gap change to lower) with L-BFGS-B and implicit gradients, warm-started from the previous
    point (`x0` for the first; e.g. the efficiency optimum) and from each of `anchors` (e.g. the
    equity optimum), keeping the best scalarised value.  Weighted sums find the convex part of
    the frontier.  Returns one row per weight with the four statistics, omega and evaluation counts."""
    ie, iq = STATISTICS.index(_objective_key(efficiency)[0]), STATISTICS.index(_objective_key(equity)[0])
    pol = polisher or WeightedPolisher(problem)
    rows = []
    prev = np.zeros(12) + 0.5 if x0 is None else np.asarray(x0)
    for t in weights:
        c = np.zeros(4)
        c[ie], c[iq] = -(1.0 - t), t
        best = None
        n = 0
        for start in (prev, *anchors):
            xs, vs, ns, pgs = pol(c, start, max_iter=max_iter)
            n += ns
            if best is None or vs < best[1]:
                best = (xs, vs, pgs)
        assert best is not None
        x, _, pg = best
        prev = x
        v = np.asarray(problem.stats(jnp.asarray(x)))
        rows.append(
            {
                "efficiency": efficiency,
                "equity": equity,
                "weight_equity": t,
                **dict(zip(STATISTICS, v, strict=False)),
                "value_and_grad_evals": n,
                "projected_grad_norm": pg,
                **{f"omega{j + 1}": float(x[j]) for j in range(12)},
            }
        )
    return pd.DataFrame(rows)


def epsilon_frontier(
    problem: Table4Problem | CountedProblem,
    efficiency: str = "gdp_change",
    equity: str = "output_gap_change",
    *,
    anchors: Sequence[Any] = (),
    n_points: int = 15,
    draws: RandomSearchResult | None = None,
    max_iter: int = 30,
) -> pd.DataFrame:
    """The efficiency-equity frontier by epsilon-constraints: for each level eps of the equity
    statistic (a gap change, to lower) maximise the efficiency statistic subject to
    `equity <= eps` over [-1, 1]^12 (SLSQP with implicit gradients, counted work).

    The levels are `n_points` evenly spaced between the smallest and the largest equity value
    of the `anchors` (e.g. the equity and the efficiency optima), from the top down.  Each level
    starts from the previous level's point and, when `draws` are given, from the draw with the
    best efficiency among those meeting the constraint; every evaluated point that meets the
    constraint is a candidate, so a level's point is never worse than its best feasible start (no
    draw meeting the constraint has a higher efficiency).  Returns one row per level: `eps`, the
    four statistics, omega, the counted work, and `nondominated` (False where another level's
    point dominates it)."""
    from scipy.optimize import minimize

    cp = problem if isinstance(problem, CountedProblem) else CountedProblem(problem)
    ie = STATISTICS.index(_objective_key(efficiency)[0])
    iq = STATISTICS.index(_objective_key(equity)[0])
    ce, cq = np.zeros(4), np.zeros(4)
    ce[ie], cq[iq] = -1.0, 1.0
    anchor_x = [np.asarray(a, dtype=np.float64) for a in anchors]
    anchor_v = [cp.value(a)[0] for a in anchor_x]
    ok = [a for a, v in zip(anchor_x, anchor_v, strict=True) if np.all(np.isfinite(v))]
    okv = [v for v in anchor_v if np.all(np.isfinite(v))]
    if len(okv) < 1:
        raise InputError("epsilon_frontier: no anchor with finite statistics")
    lo, hi = min(v[iq] for v in okv), max(v[iq] for v in okv)
    if draws is not None:
        D = draws.values
        fin = np.all(np.isfinite(D), axis=1)
        hi = max(hi, float(np.max(D[fin, iq]))) if fin.any() else hi
    levels = np.linspace(hi, lo, n_points) if n_points > 1 else np.array([lo])
    prev = ok[int(np.argmax([v[ie] for v in okv]))]
    rows = []
    for eps in levels:
        w0 = cp.work.copy()
        best: list[Any] = [None, -np.inf, None]  # x, efficiency, stats

        def consider(x, v, eps=eps, best=best):
            if np.all(np.isfinite(v)) and v[iq] <= eps and v[ie] > best[1]:
                best[0], best[1], best[2] = np.array(x), float(v[ie]), np.array(v)

        starts = [prev]
        if draws is not None:
            D = draws.values
            meet = np.all(np.isfinite(D), axis=1) & (D[:, iq] <= eps)
            if meet.any():
                j = int(np.flatnonzero(meet)[np.argmax(D[meet, ie])])
                starts.append(draws.omega(j))
                consider(starts[-1], D[j])
        for a, v in zip(ok, okv, strict=True):
            consider(a, v)
        cache: dict[bytes, tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]] = {}

        def at(x):
            k = np.asarray(x, dtype=np.float64).tobytes()
            if k not in cache:
                v, xs = cp.value(x)
                consider(x, v)
                cache[k] = (v, None, None, xs)
            return cache[k]

        def grad(x, which):
            v, ge, gq, xs = at(x)
            if not np.all(np.isfinite(v)):
                return np.zeros(12)
            k = np.asarray(x, dtype=np.float64).tobytes()
            if which == "e" and ge is None:
                ge = cp.gradient(x, xs, ce)
            if which == "q" and gq is None:
                gq = cp.gradient(x, xs, cq)
            cache[k] = (v, ge, gq, xs)
            return ge if which == "e" else gq

        def fun(x):
            v = at(x)[0]
            return float(-v[ie]) if np.all(np.isfinite(v)) else 1e3

        def cons(x, eps=eps):
            v = at(x)[0]
            return float(eps - v[iq]) if np.all(np.isfinite(v)) else -1e3

        for x0 in starts:
            minimize(
                fun,
                np.clip(np.asarray(x0, dtype=np.float64), -1.0, 1.0),
                jac=lambda x: grad(x, "e"),
                method="SLSQP",
                bounds=[(-1.0, 1.0)] * 12,
                constraints=[{"type": "ineq", "fun": cons, "jac": lambda x: -grad(x, "q")}],
                options={"maxiter": max_iter, "ftol": 1e-10},
            )
        if best[0] is None:
            continue
        prev = best[0]
        w = cp.work
        rows.append(
            {
                "efficiency": efficiency,
                "equity": equity,
                "eps": float(eps),
                **dict(zip(STATISTICS, best[2], strict=True)),
                "solve_equivalents": w.solve_equivalents - w0.solve_equivalents,
                **{f"omega{j + 1}": float(best[0][j]) for j in range(12)},
            }
        )
    df = pd.DataFrame(rows)
    if len(df):
        nd = nondominated(np.c_[df[STATISTICS[ie]].to_numpy(), df[STATISTICS[iq]].to_numpy()])
        df["nondominated"] = np.isin(np.arange(len(df)), nd)
    return df


def nondominated(points: np.ndarray) -> np.ndarray:
    """Indices of the rows of `points` (columns: maximise, minimise) that no other row dominates."""
    pts = np.asarray(points)
    ok = np.all(np.isfinite(pts), axis=1)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((pts[idx, 1], -pts[idx, 0]))]  # by efficiency descending, then gap ascending
    keep, best_gap = [], np.inf
    for i in order:
        if pts[i, 1] < best_gap:
            keep.append(i)
            best_gap = pts[i, 1]
    return np.asarray(keep, dtype=int)


# ---- local parameter sensitivities ----------------------------------------------------------------


def parameter_sensitivities(
    problem: Table4Problem,
    omega,
    *,
    names: Sequence[str] = SENSITIVITY_PARAMS,
    rebuild: Callable[[Any], Any] | None = None,
) -> pd.DataFrame:
    """d(statistic)/d(parameter) at `omega` by forward-mode autodiff through the implicit solve.

    With `rebuild=None` the baseline (data, wedges, G, covariates) is held fixed and only the hat
    system's parameters move; with `rebuild(params) -> baseline` (e.g. `build_baseline(data,
    params)`, if it is traceable) tau, G and the covariates are re-derived as in the paper's
    robustness runs (the seller/buyer classification is piecewise constant, so it has no
    derivative).  Returns rows (statistic) x columns (parameter)."""
    omega = jnp.asarray(omega)
    p0 = problem.params
    x0 = jnp.asarray([float(getattr(p0, n)) for n in names])

    def f(x):
        p = dataclasses.replace(p0, **{n: x[i] for i, n in enumerate(names)})
        b = rebuild(p) if rebuild is not None else None
        return problem.stats(omega, params=p, baseline=b)

    J = np.asarray(jax.jacfwd(f)(x0))
    return pd.DataFrame(J, index=list(STATISTICS), columns=list(names))


def robustness_comparison(
    problem: Table4Problem,
    omega,
    *,
    rebuild: Callable[[Any], Any] | None = None,
    cases: Sequence[tuple[str, float]] = PAPER_ROBUSTNESS,
) -> pd.DataFrame:
    """The paper's one-at-a-time parameter changes (section 5(2)) at fixed `omega`: the re-solved
    statistics beside the first-order prediction `stat + dstat/dparam * change` from autodiff."""
    omega = jnp.asarray(omega)
    base = np.asarray(problem.stats(omega))
    sens = parameter_sensitivities(problem, omega, rebuild=rebuild)
    rows = []
    for name, value in cases:
        p = dataclasses.replace(problem.params, **{name: jnp.asarray(value, dtype=jnp.float64)})
        b = rebuild(p) if rebuild is not None else None
        new = np.asarray(problem.stats(omega, params=p, baseline=b))
        change = value - float(getattr(problem.params, name))
        for i, st in enumerate(STATISTICS):
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "statistic": st,
                    "baseline": base[i],
                    "resolved": new[i],
                    "linear_prediction": base[i] + sens.loc[st, name] * change,
                }
            )
    return pd.DataFrame(rows)


__all__ = [
    # the rule and the statistics' order, re-exported for the study scripts
    "OMEGA_LABELS",
    "STATISTICS",
    "Allocation",
    "RuleOptions",
    "allocate",
    "to_shock",
    "uniform_allocation",
    "OBJECTIVES",
    "PAPER_TABLE4",
    "PAPER_ROBUSTNESS",
    "SENSITIVITY_PARAMS",
    "Table4Problem",
    "table4_problem",
    "draw_omegas",
    "RandomSearchResult",
    "random_search",
    "normalise_omega",
    "gradient_search",
    "WorkCount",
    "CountedProblem",
    "SearchResult",
    "counted_search",
    "measure_cost_ratios",
    "projected_gradient",
    "WeightedPolisher",
    "pareto_frontier",
    "epsilon_frontier",
    "nondominated",
    "parameter_sensitivities",
    "robustness_comparison",
]
