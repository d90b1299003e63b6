"""Solving the Cheng & Liu (2021) model: one equilibrium (pure JAX and with every check), batches,
sweeps, and the model spec the command line is built from."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.contract import ModelSpec, Result, as_batch, check_single, check_types
from landjax.errors import ConvergenceError, InputError, NoEquilibriumError
from landjax.models.urban_rural.equations import (
    _bracket_root,
    _scan_grid,
    initial_guess,
    reduced,
    reduced_engine,
    residual_engine,
    to_levels,
)
from landjax.models.urban_rural.options import Options, Solver
from landjax.models.urban_rural.outcomes import outcomes
from landjax.models.urban_rural.params import (
    MOMENTS,
    OUTPUT,
    PARAM_NAMES,
    UNKNOWNS,
    WELFARE,
    Params,
    check_params,
)
from landjax.sweep import sweep_for

#: policy -> range used in the paper's figures (section V.1)
POLICY_RANGES = {"m": (0.0, 1.0), "phi_r": (0.0, 1.0), "omega_a": (0.0, 0.1), "omega_0": (0.0, 0.1)}
SWEEP_COLUMNS = (*UNKNOWNS, *MOMENTS, *WELFARE, *OUTPUT)


class SortingWarning(UserWarning):
    """The equilibrium found violates the sorting condition (stayers below hbar prefer to stay,
    migrants above it prefer to migrate), so it is not an equilibrium of the model as written."""


SORTING_NOTE = (
    "the solution of eqs. (1)-(23) violates the sorting condition (some stayers below hbar would rather "
    "migrate, or some migrants above hbar would rather stay), so it is not an equilibrium of the model"
)


def with_values(p: Params, **kw: Any) -> Params:
    """`p` with some leaves replaced (works with traced values)."""
    return dataclasses.replace(p, **kw)


def solve_reduced_jax(p: Params, o: Options = Options()):
    """The equilibrium through the one-equation reduction (`equations.reduced`), solved with
    `landjax.engine.solve` (scalar Newton, implicit differentiation) from the bracketed root.

    Same equilibrium as `solve_jax` (tests check 1e-10), with a much smaller program: used
    inside calibration and policy optimisation, where compile time dominates. Returns
    `(x, out)` like `solve_jax`."""
    from landjax.engine import solve

    t0, found = _bracket_root(p, o)
    sol = solve(reduced_engine, t0, (p, o), backend="native", throw=False, tol=1e-14, ftol=1e-11, max_steps=30)
    hbar = p.h_low + jnp.exp(sol.value)
    _, x = reduced(hbar, p, o)
    out = outcomes(x, p, o)
    out["converged"] = sol.converged & found & jnp.all(jnp.isfinite(x)) & jnp.all(x > 0)
    out["residual_norm"] = sol.residual_norm
    out["steps"] = sol.steps
    return x, out


def solve_jax(
    p: Params,
    o: Options = Options(),
    *,
    method: str = "newton",
    tol: float = 1e-12,
    ftol: float = 1e-9,
    max_steps: int = 50,
):
    """Pure-JAX equilibrium: reduced-form initial guess then a 6-D Newton solve (implicit
    differentiation w.r.t. every leaf of `p`). Returns `(x, out, sol, found)`; jittable,
    vmappable and differentiable. `out['converged']` combines the solver flag and the existence
    of a root of the reduced equation; the sorting check is reported separately in
    `out['sorting_ok']` (it fails for some non-default readings, e.g. `loss=div`)."""
    from landjax.engine import solve

    z0, found = initial_guess(p, o)
    sol = solve(
        residual_engine,
        z0,
        (p, o),
        method=method,
        backend="native",
        throw=False,
        tol=tol,
        ftol=ftol,
        max_steps=max_steps,
    )
    x = to_levels(sol.value, p)
    out = outcomes(x, p, o)
    out["converged"] = sol.converged & found & jnp.all(jnp.isfinite(x))
    out["solver_converged"] = sol.converged
    out["found"] = found
    out["residual_norm"] = sol.residual_norm
    out["steps"] = sol.steps
    return x, out, sol, found


_solve_jit = jax.jit(solve_jax, static_argnames=("method", "tol", "ftol", "max_steps"))


@dataclasses.dataclass(frozen=True)
class Equilibrium:
    """One solved equilibrium (plain floats)."""

    converged: bool
    unknowns: dict
    moments: dict
    welfare: dict
    output: dict
    options: dict
    sorting_ok: bool
    walras_gap: float
    residual_norm: float
    steps: int
    extra: dict

    def to_json(self) -> dict:
        return {
            "converged": self.converged,
            "unknowns": self.unknowns,
            "moments": self.moments,
            "welfare": self.welfare,
            "output": self.output,
            "options": self.options,
            "sorting_ok": self.sorting_ok,
            "walras_gap": self.walras_gap,
            "residual_norm": self.residual_norm,
            "steps": self.steps,
            **self.extra,
        }


def diagnose_no_equilibrium(p: Params, o: Options) -> str:
    """Why the reduced equation in hbar has no root (for the error message)."""
    t, hb = _scan_grid(p)
    F, x = jax.vmap(lambda h: reduced(h, p, o))(hb)
    F, x = np.asarray(F), np.asarray(x)
    fin = np.isfinite(F) & np.all(np.isfinite(x), axis=1) & np.all(x > 0, axis=1)
    rng = f"hbar in [{float(hb[0]):.6g}, {float(hb[-1]):.4g}]"
    if not fin.any():
        return (
            f"no equilibrium with g_u > 0: the government budget (13) is negative for every {rng} "
            f"(the production-land subsidy tau_n={float(p.tau_n):g} costs more than the land revenue it can use)"
        )
    if np.all(F[fin] > 0):
        return f"no interior equilibrium: every rural resident prefers to migrate (U_m > U_r) for every {rng}"
    if np.all(F[fin] < 0):
        return f"no interior equilibrium: no rural resident wants to migrate (U_m < U_r) for every {rng}"
    return f"no interior equilibrium: the migration condition (14) has no admissible root for {rng}"


def solve_equilibrium(p: Params | None = None, o: Options | None = None, *, throw: bool = True) -> Equilibrium:
    """Solve one equilibrium and return plain numbers with every check.

    Raises `InputError` for invalid parameters, `NoEquilibriumError` (naming the
    condition that fails) for parameters without an equilibrium, and (`throw=True`)
    `ConvergenceError` when Newton does not converge. A solution that violates the sorting
    condition is returned with `sorting_ok=False` and a `SortingWarning` (`solve`
    reports it as no equilibrium). Never returns NaN as a result."""
    p = p or Params()
    o = o or Options()
    check_params(p, o)
    x, out, sol, found = _solve_jit(p, o)
    if not bool(found):
        raise NoEquilibriumError(diagnose_no_equilibrium(p, o) + f"; parameters: {_param_str(p)}")
    xs = np.asarray(x)
    vals = {k: float(np.asarray(v)) for k, v in out.items()}
    finite = bool(np.all(np.isfinite(xs))) and all(math.isfinite(vals[k]) for k in (*MOMENTS, *WELFARE, *OUTPUT))
    conv = bool(out["converged"]) and finite
    if not conv and throw:
        why = []
        if not bool(out["solver_converged"]):
            why.append(
                f"Newton did not converge (residual norm {vals['residual_norm']:.3e} after {int(out['steps'])} steps)"
            )
        if not finite:
            why.append("non-finite outcome")
        raise ConvergenceError("urban_rural: " + "; ".join(why) + f"; options: {o.label()}")
    if not finite:
        raise InputError("urban_rural: the equilibrium has non-finite outcomes for these parameters: " + _param_str(p))
    if not bool(out["sorting_ok"]):
        warnings.warn(
            SortingWarning(SORTING_NOTE + f"; options: {o.label()}; parameters: {_param_str(p)}"), stacklevel=2
        )
    return Equilibrium(
        converged=conv,
        unknowns={k: float(v) for k, v in zip(UNKNOWNS, xs, strict=False)},
        moments={k: vals[k] for k in MOMENTS},
        welfare={k: vals[k] for k in WELFARE},
        output={k: vals[k] for k in OUTPUT},
        options=o.as_dict(),
        sorting_ok=bool(out["sorting_ok"]),
        walras_gap=vals["walras_gap"],
        residual_norm=vals["residual_norm"],
        steps=int(out["steps"]),
        extra={
            "excess_ag": vals["excess_ag"],
            "excess_nonag": vals["excess_nonag"],
            "leak_unpaid": vals["leak_unpaid"],
            "land_total": vals["land_total"],
            "land_Omega": vals["land_Omega"],
        },
    )


def _param_str(p: Params) -> str:
    d = Params()
    diff = {
        n: getattr(p, n) for n in PARAM_NAMES if np.ndim(getattr(p, n)) == 0 and float(getattr(p, n)) != getattr(d, n)
    }
    return "Table 1 defaults" if not diff else ", ".join(f"{k}={float(v):g}" for k, v in diff.items())


def batch_params(p: Params, n: int, **columns) -> Params:
    """A `Params` whose every leaf has leading axis `n` (columns override named leaves)."""
    bad = [k for k in columns if k not in PARAM_NAMES]
    if bad:
        raise InputError(f"unknown parameter(s) {', '.join(bad)}; valid parameters: {', '.join(PARAM_NAMES)}")
    leaves: dict[str, Any] = {}
    for name in PARAM_NAMES:
        v = columns.get(name, getattr(p, name))
        leaves[name] = jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), (n,))
    return Params(**leaves)


#: batched initial guess and outcomes; the options are static (a leafless pytree), so each option
#: set compiles once and is reused
_guess_batch = jax.jit(jax.vmap(initial_guess, in_axes=(0, None)))
_outcomes_batch = jax.jit(jax.vmap(lambda z, q, o: outcomes(to_levels(z, q), q, o), in_axes=(0, 0, None)))


def solve_many(pb: Params, o: Options = Options(), *, chunk_size: int = 256):
    """Solve a batch of equilibria (every leaf of `pb` has a leading batch axis) with
    `landjax.engine.solve_batch`. Returns a dict of numpy arrays (unknowns, moments, welfare,
    output, converged, sorting_ok, walras_gap, residual_norm, steps); a failed member is flagged
    `converged=False` (its numbers are NaN and must not be reported as results)."""
    from landjax.engine import solve_batch

    check_params(pb, o)
    z0, found = _guess_batch(pb, o)
    sols = solve_batch(
        residual_engine, z0, (pb, o), chunk_size=chunk_size, backend="native", tol=1e-12, ftol=1e-9, max_steps=50
    )
    x = jax.vmap(to_levels)(sols.value, pb)
    out = _outcomes_batch(sols.value, pb, o)
    conv = np.asarray(sols.converged) & np.asarray(found) & np.all(np.isfinite(np.asarray(x)), axis=1)
    res = {k: np.asarray(x[:, i]) for i, k in enumerate(UNKNOWNS)}
    for k in (*MOMENTS, *WELFARE, *OUTPUT, "walras_gap", "land_total", "land_Omega", "excess_ag", "excess_nonag"):
        res[k] = np.asarray(out[k])
    res["sorting_ok"] = np.asarray(out["sorting_ok"])
    res["converged"] = conv
    res["residual_norm"] = np.asarray(sols.residual_norm)
    res["steps"] = np.asarray(sols.steps)
    for k in SWEEP_COLUMNS:
        res[k] = np.where(conv, res[k], np.nan)
    return res


# ------------------------------------------------------------------------------------------------
# the model contract: solve -> Result, solve_batch, sweep, MODEL
# ------------------------------------------------------------------------------------------------

UNITS = (
    ("moments.Y_ratio", "ratio"),
    ("moments.R_ratio", "ratio"),
    ("moments.migrant_share", "share of rural residents"),
    ("welfare.TU", "utility (sum of cardinal utilities)"),
    ("output.Y_a", "agricultural output (p_a = 1)"),
    ("output.Y_n", "non-agricultural output (quantity)"),
)
_DIAGNOSTICS = ("walras_gap", "excess_ag", "excess_nonag", "leak_unpaid", "land_total", "land_Omega")


def _traced(tree: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def solve(
    params: Params | None = None,
    options: Options | None = None,
    *,
    solver: Solver | None = None,
    throw: bool = True,
) -> Any:
    """The urban-rural equilibrium, eqs. (1)-(23), under the model contract.

    **Arguments:**

    - `params`: `Params` (Table 1 by default); `options`: `Options` (the printed
      equations by default); `solver`: `Solver` settings of the six-equation Newton solve.
    - `throw`: raise `NoEquilibriumError` when no equilibrium exists (the
      migration condition (14) has no admissible root, or the solution violates sorting) and
      `ConvergenceError` when Newton fails; with `False` the flags say so.

    **Returns:** a `Result`: unknowns `hbar, p_n, R_a, R_n, R_u, g_u`;
    outcomes `moments` (Table 2), `welfare` (section V.2), `output`, `sorting_ok` and the
    accounting identities (`walras_gap` etc.). NaN where there is no equilibrium. Traceable
    (`jax.vmap`/`jax.grad` with `throw=False`); `solve_batch` is the vmapped version.
    """
    p = params if params is not None else Params()
    o = options if options is not None else Options()
    s = solver if solver is not None else Solver()
    check_types("urban_rural", solver=(s, Solver))
    check_params(p, o)
    check_single("urban_rural", p)
    x, out, sol, found = _solve_jit(p, o, method=s.method, tol=s.tol, ftol=s.ftol, max_steps=s.max_steps)
    finite = jnp.all(jnp.isfinite(x)) & jnp.all(
        jnp.stack([jnp.isfinite(out[k]) for k in (*MOMENTS, *WELFARE, *OUTPUT)])
    )
    sorting = out["sorting_ok"]
    conv = out["converged"] & finite & sorting
    exists = found & sorting
    # a failed Newton solve keeps the engine's reason (1 max steps, 2 non-finite, 3 stalled)
    code = jnp.where(conv, 0, jnp.where(~exists, 4, jnp.where(out["solver_converged"], 2, sol.code)))
    nan = jnp.asarray(jnp.nan)
    # dict comprehensions (not tree_map, which sorts keys) keep the paper's order in the JSON
    outcomes_: dict[str, Any] = {
        sec: {k: jnp.where(conv, out[k], nan) for k in names}
        for sec, names in (("moments", MOMENTS), ("welfare", WELFARE), ("output", OUTPUT))
    }
    outcomes_["sorting_ok"] = sorting
    for k in _DIAGNOSTICS:
        outcomes_[k] = out[k]
    unknowns = {k: jnp.where(conv, x[i], jnp.nan) for i, k in enumerate(UNKNOWNS)}
    note = ""
    if not _traced((p, x)):
        if not bool(found):
            note = diagnose_no_equilibrium(p, o)
        elif not bool(sorting):
            note = SORTING_NOTE
    result = Result(
        unknowns=unknowns,
        outcomes=outcomes_,
        converged=conv,
        residual_norm=out["residual_norm"],
        steps=out["steps"],
        code=code,
        params=p,
        model="urban_rural",
        options=o,
        solver=s,
        units=UNITS,
        note=note,
    )
    if throw and not _traced(conv) and not bool(conv):
        if not bool(exists):
            raise NoEquilibriumError(f"urban_rural: {note}; parameters: {_param_str(p)}")
        raise ConvergenceError(
            f"urban_rural: Newton did not converge (residual norm {float(out['residual_norm']):.3e} after "
            f"{int(out['steps'])} steps); options: {o.label()}"
        )
    return result


def solve_batch(pb: Params, options: Options | None = None, *, solver: Solver | None = None) -> Any:
    """`solve` for a batch of parameters (every leaf with a leading batch axis), one vmapped call;
    failed members are flagged (`converged` false, NaN outcomes) and never change the others."""
    o = options if options is not None else Options()
    pb = as_batch("urban_rural", pb)
    check_params(pb, o)
    return jax.vmap(lambda q: solve(q, o, solver=solver, throw=False))(pb)


MODEL = ModelSpec(
    name="urban_rural",
    title="Cheng & Liu (2021) urban-rural spatial equilibrium with land conversion and land finance",
    Params=Params,
    Options=Options,
    Solver=Solver,
    solve=solve,
    solve_batch=solve_batch,
)


sweep = sweep_for(MODEL, "columns: parameters, options, solver settings")
