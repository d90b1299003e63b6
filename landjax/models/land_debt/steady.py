"""The steady state of the land-debt model: initial guess and the engine's Newton solve."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from landjax.contract import check_types
from landjax.engine import Solution
from landjax.engine import solve as engine_solve
from landjax.errors import ConvergenceError
from landjax.models.land_debt.equations import steady_state_residual
from landjax.models.land_debt.options import Options, Solver
from landjax.models.land_debt.params import Params, validate


def initial_guess(p: Params, o: Options) -> jax.Array:
    """A rough starting point: city GDP from TFP, private-capital and public-consumption shares."""
    Y = jnp.array([1.35, 1.15]) * jnp.asarray(p.A) / jnp.array([1.353, 1.0])
    y = [jnp.log(Y), jnp.log(0.6 * Y), jnp.log(0.06 * Y)]
    if o.mobility == "mobile":
        y.append(jnp.reshape(jnp.log(p.N_bar[0] / p.N_bar[1]), (1,)))
    if o.attraction == "optimal":
        y.append(jnp.full((2,), 0.05))
    return jnp.concatenate(y)


def ss_fn(y: jax.Array, args: tuple[Params, Options]) -> jax.Array:
    """The engine's residual `fn(y, args)` with `args = (params, options)` (one function object,
    so the engine compiles once per options and shapes)."""
    return steady_state_residual(y, args[0], args[1])


def check_inputs(p: Any, o: Any, s: Any) -> tuple[Params, Options, Solver]:
    """Validate the three inputs (types and every parameter) before any solve."""
    p = Params() if p is None else p
    o = Options() if o is None else o
    s = Solver() if s is None else s
    check_types("land_debt", params=(p, Params), options=(o, Options), solver=(s, Solver))
    validate(p)
    return p, o, s


def maybe_raise(sol: Solution, throw: bool, what: str) -> Solution:
    """Raise `ConvergenceError` for a concrete failed solve when `throw` (never a silent NaN)."""
    if throw and not isinstance(sol.converged, jax.core.Tracer) and not bool(sol.converged):
        raise ConvergenceError(
            f"{what} did not converge: residual norm {float(sol.residual_norm):.3e} after "
            f"{int(sol.steps)} steps ({sol.message})"
        )
    return sol


def solve_steady_state(
    p: Params, o: Options | None = None, y0: Any = None, *, solver: Solver | None = None, throw: bool = True
) -> Solution:
    """The steady state, eqs. (1)-(18), by the engine's Newton with backtracking (implicit
    differentiation in `p`), from `y0` (default `initial_guess`).

    **Returns:** an engine `Solution` on the flat unknown vector (see
    `landjax.models.land_debt.equations`)."""
    p, o, s = check_inputs(p, o, solver)
    y0 = initial_guess(p, o) if y0 is None else y0
    sol = engine_solve(ss_fn, y0, (p, o), throw=False, **s.engine_kw())
    return maybe_raise(sol, throw, "land_debt steady state")
