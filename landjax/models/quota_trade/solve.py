"""Solving the quota-trade model: one shock, one scenario (the contract's `solve`), batches, sweeps
and the command-line `ModelSpec` (`landjax solve quota_trade`)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._io import check_output_file, write_csv
from landjax.contract import CliFlag, ModelSpec, Result, as_batch, check_single, check_types, fixed_point_settings
from landjax.data.china import Dataset, load_dataset
from landjax.engine import fixed_point
from landjax.engine._compile import jit_call
from landjax.errors import ConvergenceError, InputError, NoEquilibriumError
from landjax.models.quota_trade.baseline import Baseline, Shock, build_baseline
from landjax.models.quota_trade.equations import (
    Equilibrium,
    _equilibrium,
    _migration_weights,
    check_shock,
    equilibrium_at,
    hat_map,
)
from landjax.models.quota_trade.options import Options, Solver
from landjax.models.quota_trade.outcomes import STATISTICS, city_table, diagnostics, statistics
from landjax.models.quota_trade.params import Params, default_params, param_values, with_closure
from landjax.models.quota_trade.policy import Scenario, compile_scenario_program, scenario_of
from landjax.sweep import sweep_for

UNITS = tuple((f"statistics.{k}", "percent") for k in STATISTICS) + (
    ("diagnostics.quota_traded_productive_m2", "m2"),
    ("diagnostics.quota_traded_residential_m2", "m2"),
    ("diagnostics.sum_F_yuan", "yuan"),
    ("diagnostics.sum_F_over_sum_G", "share"),
    ("diagnostics.max_abs_f", "share"),
    ("diagnostics.share_relocated", "share"),
)

_LEGACY_SOLVER = ("damping", "tol", "ftol", "max_steps", "method", "tangent", "memory")


@functools.cache
def _default_solver() -> Solver:
    return Solver()


def _solver_of(solver: Solver | None, legacy: dict[str, Any]) -> Solver:
    s = solver if solver is not None else _default_solver()
    kw = {k: v for k, v in legacy.items() if v is not None}
    bad = sorted(set(kw) - set(_LEGACY_SOLVER))
    if bad:
        raise InputError(
            f"quota_trade.solve: unknown solver setting(s) {', '.join(bad)}; valid: {', '.join(_LEGACY_SOLVER)}"
        )
    return s.replace(**kw) if kw else s  # validated: ftol=inf, tol<0, max_steps=0 are InputError


def _post(x: jax.Array, sol: Any, baseline: Baseline, shock: Shock, params: Params) -> Equilibrium:
    return _equilibrium(x, sol, baseline, shock, params, _migration_weights(baseline, shock, params.kappa))


_post_jit = jax.jit(_post)


def _solve_eq(baseline: Baseline, shock: Shock, params: Params, s: Solver, backend: str | None) -> Equilibrium:
    """The solve of `solve_shock` on checked inputs: migration weights, the fixed point, the hats."""
    Mt = _migration_weights(baseline, shock, params.kappa)
    sol = fixed_point(
        hat_map,
        jnp.zeros_like(baseline.L0),
        (baseline, shock, params, Mt),
        **fixed_point_settings(s),
        backend=backend,
        throw=False,
    )
    return _post_jit(sol.value, sol, baseline, shock, params)


def solve_shock(
    baseline: Baseline,
    shock: Shock,
    params: Params | None = None,
    *,
    throw: bool = True,
    solver: Solver | None = None,
    backend: str | None = None,
    **settings: Any,
) -> Equilibrium:
    """Counterfactual equilibrium of a shock: the fixed point of `hat_map` (eqs. (1)-(17)).

    Anderson acceleration of the damped map on `x = log L-hat` (`Solver`; damped Picard with
    `method="picard"`) with `landjax.engine.fixed_point`; each step solves the TFP equation
    city by city for its largest root and does two matrix-vector products (eqs. (9)-(10)).
    Derivatives w.r.t. the shock arrays, the baseline arrays and the parameter leaves come from the
    implicit function theorem (`tangent="dense"`: LU of I - dg/dx; `"neumann"` for large N).

    **Arguments:**

    - `baseline`, `shock`, `params`: the economy, the policy and the parameters.
    - `throw`: raise `NoEquilibriumError` when a city has no TFP root (its quota payment
      exceeds what land revenue can finance) and `ConvergenceError` when the iteration
      failed; `False` returns the flags (`converged`, `feasible`, `feasible_city`).
    - `solver`: a `Solver`; keyword settings (`damping`, `tol`, `ftol`, `max_steps`,
      `method`, `tangent`, `memory`) override its fields and are validated the same way.

    **Returns:** an `Equilibrium` (every hat plus the flags).
    """
    s = _solver_of(solver, settings)
    params = default_params() if params is None else params
    shock = check_shock(baseline, shock)
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves((baseline, shock, params))):
        eq = _solve_eq(baseline, shock, params, s, backend)  # inside the user's jit/vmap/grad: inlined there
    else:  # a plain call: one compiled program (one dispatch) for the weights, the solve and the hats
        eq = jit_call(
            _solve_eq,
            ("solve_shock", s, backend),
            lambda a: _solve_eq(a[0], a[1], a[2], s, backend),
            args=(baseline, shock, params),
        )
    if throw:
        _raise_if_failed(eq)
    return eq


def _raise_if_failed(eq: Equilibrium) -> None:
    leaves = jax.tree_util.tree_leaves((eq.converged, eq.feasible))
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        raise InputError(
            "quota_trade.solve: throw=True needs concrete inputs; inside jit/grad/vmap call it with throw=False "
            "and check the flags (converged, feasible)"
        )
    if not bool(np.all(np.asarray(eq.feasible))):
        bad = np.flatnonzero(~np.asarray(eq.feasible_city))
        raise NoEquilibriumError(
            f"quota_trade.solve: no TFP root for {bad.size} cit(y/ies) (indices {bad[:10].tolist()}): their quota "
            "payment exceeds what land revenue can finance (eqs. (16)-(17)). Use throw=False to get the flags."
        )
    if not bool(np.all(np.asarray(eq.converged))):
        raise ConvergenceError(
            f"quota_trade.solve did not converge: residual {float(np.max(eq.residual_norm)):.3e} after "
            f"{int(np.max(eq.steps))} steps (code {int(np.max(eq.code))}). Try Solver(damping=...) smaller, more "
            "max_steps, or throw=False."
        )


def _note(eq: Equilibrium) -> str:
    """Which condition fails (concrete results only; batches say it member by member in the flags)."""
    leaves = jax.tree_util.tree_leaves((eq.feasible, eq.converged))
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves) or np.ndim(eq.feasible):
        return ""
    if not bool(eq.feasible):
        bad = np.flatnonzero(~np.asarray(eq.feasible_city))
        return (
            f"no TFP root for {bad.size} buyer cit(y/ies) (indices {bad[:10].tolist()}): their quota payment exceeds "
            "what land revenue can finance (eqs. (16)-(17))"
        )
    if not bool(eq.converged):
        return f"not converged, residual {float(eq.residual_norm):.3e} after {int(eq.steps)} steps"
    return ""


def _context(data: Any, scenario: Any, options: Options) -> tuple[Dataset, Scenario]:
    ds = load_dataset(data)
    sc = scenario.bound_to(options) if isinstance(scenario, Scenario) else scenario_of(str(scenario), options)
    return ds, sc


def _options_report(ds: Dataset, sc: Scenario, params: Params, o: Options) -> dict[str, Any]:
    return {
        "dataset": ds.name,
        "dataset_description": ds.describe(),
        "scenario": sc.describe(),
        **{k: v for k, v in param_values(params).items()},
        "closure": o.closure,
        "labour_split": o.labour_split,
        "tenure": o.tenure,
        "gap": o.gap,
        "gdp": o.gdp,
        "welfare": o.welfare,
        "welfare_gap": o.welfare_gap,
    }


def economy(params: Params, options: Options, ds: Dataset, sc: Scenario) -> tuple[Params, Baseline, Shock]:
    """Parameters with the options' closure, the baseline and the scenario's shock."""
    if params.closure != "endogenous" and params.closure != options.closure:
        raise InputError(
            f"Params.closure={params.closure!r} conflicts with Options.closure={options.closure!r}; "
            "set the closure with Options(closure=...)"
        )
    pc = with_closure(params, options.closure)
    base = build_baseline(ds, pc, labour_split=options.labour_split, tenure=options.tenure, land_rate=options.land_rate)
    return pc, base, compile_scenario_program(base, sc)


def _result(eq: Equilibrium, base: Baseline, shock: Shock, p: Params, o: Options, s: Solver, extra: str) -> Result:
    st = statistics(base, shock, eq, o.gap, gdp=o.gdp, welfare=o.welfare, welfare_gap=o.welfare_gap)
    dg = diagnostics(base, shock, eq, gap=o.gap, welfare_gap=o.welfare_gap)
    ok = eq.converged & eq.feasible
    return Result(
        unknowns={"log_L_hat": jnp.log(eq.L_hat)},
        outcomes={"feasible": eq.feasible, "statistics": st, "diagnostics": dg},
        converged=ok,
        residual_norm=eq.residual_norm,
        steps=eq.steps,
        code=jnp.where(eq.feasible, eq.code, 4),
        params=p,
        model="quota_trade",
        options=o,
        solver=s,
        units=UNITS,
        note=_note(eq),
        extra=extra,
    )


def solve(
    params: Any = None,
    options: Any = None,
    *legacy_args: Any,
    solver: Solver | None = None,
    throw: bool = True,
    data: Any = None,
    scenario: Any = "none",
    **legacy: Any,
) -> Any:
    """One scenario of Ma & Ni solved: the contract's `solve`.

    **Arguments:**

    - `params`: `Params` (default: the paper's); `options`: `Options`;
      `solver`: `Solver`.
    - `data`: a dataset (name, folder or `Dataset`; None: the default).
    - `scenario`: `"none"`, a name `{intra|inter}_{pilot|all}_{area|proportion}_{productive|
      residential|both}` or a `Scenario`; the scenario settings (`share`, `ts`, `prices`,
      `pilot_pool`, `migration_cut`, `cost_factor`) come from `options`, or from the Scenario's own
      `options` where it has them (a contradiction with a non-default `options` value is refused).
    - `throw`: raise `NoEquilibriumError` / `ConvergenceError` on failure.

    **Returns:** a `Result`: unknowns `log_L_hat`, outcomes `feasible`,
    `statistics` (percent; see `statistics`) and
    `diagnostics`; `converged` is true when the iteration converged and every city has a TFP root.

    The older form `solve(baseline, shock, params, throw=..., damping=...)` (an
    `Equilibrium` for a given shock) is still accepted for one release; it is
    `solve_shock`.
    """
    if isinstance(params, Baseline):
        return solve_shock(params, options, *legacy_args, throw=throw, solver=solver, **legacy)
    if legacy_args or legacy:
        raise InputError(f"quota_trade.solve: unexpected arguments {list(legacy) or legacy_args!r}")
    p = params if params is not None else Params()
    o = options if options is not None else Options()
    s = solver if solver is not None else Solver()
    check_types("quota_trade", params=(p, Params), options=(o, Options), solver=(s, Solver))
    check_single("quota_trade", p)
    ds, sc = _context(data, scenario, o)
    pc, base, shock = economy(p, o, ds, sc)
    eq = solve_shock(base, shock, pc, solver=s, throw=False)
    res = _result(eq, base, shock, p, o, s, json.dumps({"options": _options_report(ds, sc, p, o)}))
    if throw:
        _raise_if_failed(eq)
    return res


def solve_batch(
    pb: Params,
    options: Options | None = None,
    *,
    solver: Solver | None = None,
    data: Any = None,
    scenario: Any = "none",
) -> Result:
    """`solve` for a batch of parameters (a leading batch axis; parameters without one are shared),
    one vmapped call."""
    pb = as_batch("quota_trade", pb)
    o = options if options is not None else Options()
    s = solver if solver is not None else Solver()
    ds, sc = _context(data, scenario, o)
    extra = json.dumps({"options": {"dataset": ds.name, "scenario": sc.describe()}})

    def one(q: Params) -> Result:
        pc, base, shock = economy(q, o, ds, sc)
        eq = solve_shock(base, shock, pc, solver=s, throw=False)
        return _result(eq, base, shock, q, o, s, extra)

    return jax.vmap(one)(pb)


# ------------------------------------------------------------------------------------------------
# the command line: landjax solve quota_trade --data DIR --scenario NAME --city-out FILE.csv
# ------------------------------------------------------------------------------------------------


def _prepare(ns: Any) -> dict[str, Any]:
    """Read the dataset, check the scenario name and the `--city-out` path before any solve."""
    Scenario.from_name(ns.scenario)
    ds = load_dataset(ns.data)
    if ns.city_out:
        inputs = [ds.path] if ds.path is not None else []
        if ns.data and Path(ns.data).exists():
            inputs.append(Path(ns.data))
        check_output_file(ns.city_out, flag="--city-out", inputs=inputs, force=bool(getattr(ns, "force", False)))
    return {"data": ds, "scenario": ns.scenario}


def _write_outputs(result: Result, context: dict[str, Any], ns: Any) -> dict[str, Any]:
    if not ns.city_out:
        return {}
    p, o = result.params, result.options
    ds, sc = _context(context["data"], context["scenario"], o)
    pc, base, shock = economy(p, o, ds, sc)
    eq = equilibrium_at(result.unknowns["log_L_hat"], base, shock, pc)
    write_csv(city_table(base, shock, eq, ds), ns.city_out)
    return {"city_out": ns.city_out}


MODEL = ModelSpec(
    name="quota_trade",
    title="Ma & Ni: N-city spatial equilibrium with tradable construction-land quotas (exact hats)",
    Params=Params,
    Options=Options,
    Solver=Solver,
    solve=solve,
    solve_batch=solve_batch,
    flags=(
        CliFlag("--data", "dataset directory or name (default: china_semireal)", role="input"),
        CliFlag(
            "--scenario",
            "'none' or {intra|inter}_{pilot|all}_{area|proportion}_{productive|residential|both}",
            default="none",
        ),
        CliFlag("--city-out", "write city-level hats to this CSV (never over an input)", role="output"),
    ),
    prepare=_prepare,
    write_outputs=_write_outputs,
    context_columns=("scenario",),
)

sweep = sweep_for(MODEL, "columns: parameters, options, solver settings, `scenario`")
