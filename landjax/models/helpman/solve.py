"""Solving the Helpman economy: one equilibrium, batches, sweeps and the command-line spec."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.contract import ModelSpec, Result, batched, check_single, check_types, fixed_point_settings
from landjax.engine import Solution, fixed_point
from landjax.errors import ConvergenceError
from landjax.models.helpman.data import geography, side_of
from landjax.models.helpman.equations import hat_map
from landjax.models.helpman.options import Options, Solver
from landjax.models.helpman.outcomes import (
    COUNTRIES,
    cell_levels,
    country_welfare,
    statistics,
    welfare_gain_hat,
    welfare_gain_levels,
)
from landjax.models.helpman.params import Params
from landjax.sweep import sweep_for

if TYPE_CHECKING:
    import pandas as pd

UNITS = (
    ("welfare.West", "utility"),
    ("welfare.East", "utility"),
    ("welfare_gain.West", "percent"),
    ("welfare_gain.East", "percent"),
)


@functools.cache
def _geo(n_cells: int) -> tuple[jax.Array, jax.Array]:
    dist, country, _, _ = geography(side_of(n_cells))
    with jax.ensure_compile_time_eval():  # concrete device arrays even when first needed inside a trace
        return jnp.asarray(dist), jnp.asarray(country)


def args_of(p: Params, o: Options) -> tuple[Params, Options, tuple[jax.Array, jax.Array]]:
    """The engine's `args`: parameters, options and the grid (distances and countries)."""
    return p, o, _geo(int(jnp.shape(p.a)[-1]))


def initial_guess(p: Params) -> dict[str, jax.Array]:
    """Equal wages (mean log wage 0) and equal populations."""
    n = jnp.shape(p.a)[-1]
    return {"log_w": jnp.zeros(n), "log_L": jnp.full(n, jnp.log(p.L_total / n))}


def equilibrium(p: Params, o: Options, s: Solver) -> Solution:
    """The engine's fixed point of `hat_map` (implicit
    differentiation in every parameter, productivity included). `throw=False`: check the flags."""
    return fixed_point(
        hat_map,
        initial_guess(p),
        args_of(p, o),
        **fixed_point_settings(s),
        throw=False,
    )


def solve(
    params: Params | None = None, options: Options | None = None, *, solver: Solver | None = None, throw: bool = True
) -> Result:
    """The equilibrium of the Helpman economy (and, with `options.gains="paper_baseline"`, the
    welfare gain of each country against the paper's baseline frictions, eq. (21)).

    **Returns:** a `Result` with unknowns `log_w`, `log_L` (900 cells)
    and outcomes `welfare` (utility of each country), `welfare_gain` (percent) and
    `statistics`. NaN where the solve did not converge (`converged` false)."""
    p = params if params is not None else Params()
    o = options if options is not None else Options()
    s = solver if solver is not None else Solver()
    check_types("helpman", params=(p, Params), options=(o, Options), solver=(s, Solver))
    check_single("helpman", p)
    sol = equilibrium(p, o, s)
    x, args = sol.value, args_of(p, o)
    conv, res, steps, code = sol.converged, sol.residual_norm, sol.steps, sol.code
    V = country_welfare(x, args)
    outcomes: dict[str, Any] = {"welfare": dict(zip(COUNTRIES, (V[0], V[1]), strict=True))}
    if o.gains == "paper_baseline":
        p0 = p.replace(internal_cost=2.0, border_cost=2.0)
        sol0 = equilibrium(p0, o, s)
        gain_fn = welfare_gain_hat if o.welfare == "exact_hat" else welfare_gain_levels
        g = gain_fn(sol0.value, args_of(p0, o), x, args)
        outcomes["welfare_gain"] = dict(zip(COUNTRIES, (g[0], g[1]), strict=True))
        conv = conv & sol0.converged
        res = jnp.maximum(res, sol0.residual_norm)
        steps = steps + sol0.steps
        code = jnp.where(sol.code != 0, sol.code, sol0.code)
    outcomes["statistics"] = statistics(x, args)
    outcomes = jax.tree_util.tree_map(lambda v: jnp.where(conv, v, jnp.nan), outcomes)
    result = Result(
        unknowns=x,
        outcomes=outcomes,
        converged=conv,
        residual_norm=res,
        steps=steps,
        code=code,
        params=p,
        model="helpman",
        options=o,
        solver=s,
        units=UNITS,
    )
    if throw and not isinstance(conv, jax.core.Tracer) and not bool(conv):
        raise ConvergenceError(
            f"helpman: the equilibrium did not converge: residual {float(res):.3e} after {int(steps)} steps "
            f"({result.message}); try Solver(damping=...) smaller or more max_steps"
        )
    return result


def cells(result: Result) -> pd.DataFrame:
    """One row per cell of a solved economy: grid position, country, and the levels of
    `cell_levels` (wage, population, trade share, price,
    land rent, welfare)."""
    import pandas as pd

    p, o = result.params, result.options
    n = int(np.shape(p.a)[-1])
    _, country, row, col = geography(side_of(n))
    lv = cell_levels(result.unknowns, args_of(p, o))
    df = pd.DataFrame({"cell": np.arange(n), "row": row, "col": col, "country": np.array(COUNTRIES)[country]})
    for k, v in lv.items():
        df[k] = np.asarray(v)
    return df


solve_batch = batched(solve, "helpman")


MODEL = ModelSpec(
    name="helpman",
    title="Helpman (1998) economy of Redding & Rossi-Hansberg (2017) on a 30 x 30 grid",
    Params=Params,
    Options=Options,
    Solver=Solver,
    solve=solve,
    solve_batch=solve_batch,
)

sweep = sweep_for(MODEL, "columns: parameters, options, solver settings")
