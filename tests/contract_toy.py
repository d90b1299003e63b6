"""A two-good exchange economy written under the model contract (used by tests/test_contract.py).

It is the smallest complete example of the contract: ``Params`` with :func:`param` fields,
``Options`` and ``Solver`` with :func:`option` fields, ``residual``/``outcomes`` in the same
coordinates, ``solve`` returning a :class:`Result`, ``solve_batch`` and ``MODEL``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from landjax.contract import ModelSpec, OptionsBase, ParamsBase, Result, model_options, model_params, option, param
from landjax.engine import solve as engine_solve
from landjax.errors import InputError, NoEquilibriumError


@model_params
class Params(ParamsBase):
    """Two consumers; good 2 is the numeraire."""

    alpha: float = param(0.3, "(0, 1)", "consumer 1's expenditure share on good 1")
    beta: float = param(0.6, "(0, 1)", "consumer 2's expenditure share on good 1")
    e1: jax.Array = param([1.0, 2.0], "[0, inf)", "endowments of good 1", shape=(2,))
    e2: float = param(1.0, "(0, inf)", "consumer 1's endowment of good 2")

    def check(self, v):
        if np.any(np.sum(v["e1"], axis=-1) <= 0):
            raise InputError("Params.e1: the endowments of good 1 must not all be zero")


@model_options
class Options(OptionsBase):
    numeraire: str = option("good2", ("good2", "good1"), "prices are relative; which good costs 1", "eq. (1)")
    report_log: bool = option(False, (False, True), "report the log price as well", "")


@model_options
class Solver(OptionsBase):
    tol: float = option(1e-12, "(0, 1)", "step tolerance")
    max_steps: int = option(50, "[1, 10000]", "Newton steps")


def residual(unknowns, p, o):
    p1 = jnp.exp(unknowns["log_p"])
    income = jnp.stack([p1 * p.e1[..., 0] + p.e2, p1 * p.e1[..., 1]])
    shares = jnp.stack([p.alpha, p.beta])
    return {"log_p": jnp.log(jnp.sum(shares * income) / p1) - jnp.log(jnp.sum(p.e1))}


def outcomes(unknowns, p, o):
    p1 = jnp.exp(unknowns["log_p"])
    out = {"prices": {"p1": p1 if o.numeraire == "good2" else 1.0 / p1}}
    if o.report_log:
        out["prices"]["log_p1"] = unknowns["log_p"]
    return out


def solve(params=None, options=None, *, solver=None, throw=True):
    p = params if params is not None else Params()
    o = options if options is not None else Options()
    s = solver if solver is not None else Solver()
    sol = engine_solve(
        lambda u, a: residual(u, a[0], a[1]),
        {"log_p": jnp.asarray(0.0)},
        (p, o),
        tol=s.tol,
        max_steps=s.max_steps,
        throw=False,
    )
    if throw and not bool(sol.converged):
        raise NoEquilibriumError("toy: no price clears the market")
    out = outcomes(sol.value, p, o)
    return Result(
        unknowns=sol.value,
        outcomes=out,
        converged=sol.converged,
        residual_norm=sol.residual_norm,
        steps=sol.steps,
        code=sol.code,
        params=p,
        model="toy",
        options=o,
        solver=s,
        units=(("prices.p1", "good 2 per good 1"),),
    )


def solve_batch(pb, options=None, *, solver=None):
    return jax.vmap(lambda q: solve(q, options, solver=solver, throw=False))(pb)


MODEL = ModelSpec(
    name="toy",
    title="two-good exchange economy",
    Params=Params,
    Options=Options,
    Solver=Solver,
    solve=solve,
    solve_batch=solve_batch,
)
