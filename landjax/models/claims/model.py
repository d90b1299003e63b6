"""The claims problem under the model contract (`landjax.contract`): `Params` (the claims and
the estate), `Options` (the rule, its smooth temperature and the one-sided derivative), and
`solve` returning the generic `Result` (`landjax solve claims`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from landjax.contract import (
    ModelSpec,
    Result,
    as_batch,
    check_single,
    check_types,
    model_options,
    model_params,
    option,
    param,
)
from landjax.errors import ConvergenceError, InputError
from landjax.models.claims.api import AA_CONDITION_MAX, AA_EXACT_MAX_N
from landjax.models.claims.extended import aa_condition
from landjax.models.claims.names import ALL_RULES, canonical_rule
from landjax.models.claims.reference import aa_exact
from landjax.models.claims.registry import EXACT, SMOOTH_RULES, smooth_rule
from landjax.sweep import sweep_for

#: a division is accepted when its awards add up to the estate within this, relative to the
#: largest claim (the rules are exact; only rounding separates them from the estate)
BALANCE_RTOL = 1e-9
#: status code of an AA division whose floating-point inclusion-exclusion sum is ill-conditioned
#: (its cancellation factor exceeds ``AA_CONDITION_MAX``): the awards are not accurate
CODE_ILL_CONDITIONED = 5

UNITS = (("awards", "hm2"), ("statistics.gini", "index"), ("statistics.satisfaction_min", "share"))


@model_params
class Params:
    """A claims problem: the districts' demands (claims) and the county's quota (estate)."""

    claims: jax.Array = param(
        [100.0, 200.0, 300.0], "[0, inf)", "claims (demands) of the claimants", ref="Table 4", unit="hm2", shape=(None,)
    )
    estate: float = param(200.0, "[0, inf)", "estate (quota) to divide, at most the sum of the claims", ref="Table 4")

    def check(self, v: dict[str, np.ndarray]) -> None:
        c, E = v["claims"], v["estate"]
        top = np.max(c, axis=-1)
        s = np.ldexp(1.0, np.floor(np.log2(np.where(top > 0, top, 1.0))).astype(np.int64))
        if np.any(E / s > np.sum(c / s[..., None], axis=-1) * (1 + 1e-12)):
            raise InputError(
                f"Params.estate={float(np.max(E)):g} exceeds the sum of Params.claims "
                f"({float(np.min(np.sum(c, axis=-1))):g}); a claims problem needs 0 <= estate <= sum of claims"
            )


@model_options
class Options:
    """Which rule divides the estate, and how it is differentiated."""

    #: `rule` accepts the long and lower-case names too (`talmud` -> `T`), like `landjax claims --rule`
    canonical: ClassVar[dict[str, Callable[[str], str]]] = {"rule": canonical_rule}

    rule: str = option(
        "T", ALL_RULES, "the division rule (the paper's six and the seven further rules)", "eqs. (1)-(6)"
    )
    temperature: float = option(
        0.0,
        "[0, inf)",
        "0: the exact rule; > 0: its smooth version with this temperature (claims' units)",
        "eqs. (2)-(6)",
    )
    side: int = option(
        1,
        (1, -1),
        "one-sided derivative at a kink: the piece for a slightly larger (+1) or smaller (-1) estate",
        "eqs. (2)-(6)",
    )


def _scaled(p: Params) -> tuple[jax.Array, jax.Array, jax.Array]:
    c = jnp.asarray(p.claims)
    top = jnp.max(c)
    k = jnp.floor(jnp.log2(jnp.where(top > 0, top, 1.0)))
    s = jax.lax.stop_gradient(jnp.ldexp(jnp.ones((), c.dtype), k.astype(jnp.int32)))
    E = jnp.minimum(jnp.asarray(p.estate, c.dtype) / s, jnp.sum(c / s))
    return c / s, E, s


def _awards(p: Params, o: Options) -> jax.Array:
    cs, Es, s = _scaled(p)
    if o.temperature > 0:
        if o.rule not in SMOOTH_RULES:
            smooth_rule(o.rule)  # raises naming the rules that have one
        x, _ = smooth_rule(o.rule)(cs, Es, o.temperature / s)
    else:
        x = EXACT[o.rule](cs, Es, side=o.side)
    return x * s


def _gini(x: jax.Array) -> jax.Array:
    a = jnp.sort(x)
    n = a.shape[0]
    tot = jnp.sum(a)
    i = jnp.arange(1, n + 1, dtype=a.dtype)
    return jnp.where(tot > 0, 2.0 * jnp.sum(i * a) / (n * jnp.where(tot > 0, tot, 1.0)) - (n + 1) / n, 0.0)


def residual(unknowns: dict[str, Any], params: Params, options: Options) -> dict[str, Any]:
    """`awards - R(estate, claims)` (zero at the rule's division) and the balance `sum awards - estate`."""
    x = jnp.asarray(unknowns["awards"])
    return {"awards": x - _awards(params, options), "balance": jnp.sum(x) - jnp.asarray(params.estate)}


def outcomes(unknowns: dict[str, Any], params: Params, options: Options) -> dict[str, Any]:
    """The awards, and statistics: Gini index of the awards, the smallest and largest satisfaction
    (award/claim over positive claims), the total awarded."""
    x = jnp.asarray(unknowns["awards"])
    c = jnp.asarray(params.claims)
    pos = c > 0
    sat = jnp.where(pos, x / jnp.where(pos, c, 1.0), jnp.nan)
    return {
        "awards": x,
        "statistics": {
            "gini": _gini(x),
            "satisfaction_min": jnp.nanmin(sat),
            "satisfaction_max": jnp.nanmax(sat),
            "total": jnp.sum(x),
        },
    }


def solve(
    params: Params | None = None, options: Options | None = None, *, solver: Any = None, throw: bool = True
) -> Result:
    """Divide the estate by the chosen rule (exact, or smooth with `options.temperature`).

    **Returns:** a `Result` with unknowns `awards` and outcomes
    `awards` and `statistics`; `converged` is true unless a smooth solve or DT's recursion
    failed (NaN awards). Traceable (`jax.grad`/`jax.vmap` with `throw=False`)."""
    p = params if params is not None else Params()
    o = options if options is not None else Options()
    if solver is not None:
        raise InputError("model claims has no solver settings")
    check_types("claims", params=(p, Params), options=(o, Options))
    check_single("claims", p)
    x = _awards(p, o)
    ill = _ill_conditioned(p, o)
    if not isinstance(ill, jax.core.Tracer) and bool(ill) and np.size(p.claims) <= AA_EXACT_MAX_N:
        # a concrete problem: recompute the AA division in exact integer arithmetic
        x = jnp.asarray(aa_exact(np.asarray(p.claims), float(np.asarray(p.estate))))
        ill = jnp.asarray(False)
    res = jnp.abs(jnp.sum(x) - jnp.asarray(p.estate))
    finite = jnp.all(jnp.isfinite(x))
    balanced = res <= BALANCE_RTOL * jnp.maximum(1.0, jnp.max(jnp.asarray(p.claims)))
    conv = finite & balanced & ~ill
    out = outcomes({"awards": x}, p, o)
    result = Result(
        unknowns={"awards": x},
        outcomes=out,
        converged=conv,
        residual_norm=res,
        steps=jnp.asarray(0),
        code=jnp.where(conv, 0, jnp.where(ill, CODE_ILL_CONDITIONED, jnp.where(finite, 3, 2))),
        params=p,
        model="claims",
        options=o,
        solver=None,
        units=UNITS,
    )
    if throw and not isinstance(conv, jax.core.Tracer) and not bool(conv):
        raise ConvergenceError(
            f"claims: the {o.rule} rule gave no accurate division (status {int(result.code)}, "
            f"sum of awards - estate = {float(res):.3g}; {result.message})"
        )
    return result


def _ill_conditioned(p: Params, o: Options) -> jax.Array:
    """True for an exact AA division whose inclusion-exclusion sum cancels too much for float64."""
    if o.rule != "AA" or o.temperature > 0:
        return jnp.asarray(False)
    cs, Es, _ = _scaled(p)
    return ~(aa_condition(cs, Es) <= AA_CONDITION_MAX)


def solve_batch(pb: Params, options: Options | None = None, *, solver: Any = None) -> Result:
    """`solve` for a batch of problems (claims `(B, n)`, estates `(B,)`), one vmapped call.

    Members the vmapped call flags as ill-conditioned (AA only, status 5) are solved again one by
    one, in exact arithmetic, and put back; inside a user's `jax.jit` they stay flagged."""
    pb = as_batch("claims", pb)
    rb = jax.vmap(lambda q: solve(q, options, solver=solver, throw=False))(pb)
    code = rb.code
    if isinstance(code, jax.core.Tracer):
        return rb
    redo = np.flatnonzero(np.asarray(code) == CODE_ILL_CONDITIONED)
    for i in redo:
        member = jax.tree_util.tree_map(lambda v, i=i: v[i], pb)
        one = solve(member, options, solver=solver, throw=False)
        rb = jax.tree_util.tree_map(lambda b, v, i=i: jnp.asarray(b).at[i].set(v), rb, one)
    return rb


MODEL = ModelSpec(
    name="claims",
    title="Claims-problem rules for splitting a quota (Zuo, Hu & Li 2019; Thomson 2019)",
    Params=Params,
    Options=Options,
    Solver=None,
    solve=solve,
    solve_batch=solve_batch,
    doc="landjax solve claims --set claims=596.11,553.01 --set estate=800 --option rule=RA",
)

sweep = sweep_for(MODEL, "columns: `estate`, `rule`, ... and the claims")
