"""Solving the land-debt model under the contract: one steady state, batches, sweeps, the CLI spec."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.contract import CliFlag, ModelSpec, Result, batched, check_single
from landjax.engine import Solution
from landjax.engine import solve as engine_solve
from landjax.engine import solve_batch as engine_solve_batch
from landjax.errors import ConvergenceError, InputError
from landjax.models.land_debt.calibrate import TARGETS, calibrate_joint
from landjax.models.land_debt.equations import n_unknowns, named
from landjax.models.land_debt.options import Options, Solver
from landjax.models.land_debt.outcomes import KEY_STATS, outcomes, statistics
from landjax.models.land_debt.params import Params, validate
from landjax.models.land_debt.steady import check_inputs, initial_guess, ss_fn
from landjax.sweep import sweep_for

_UNIT = {
    "X": "composite good",
    "consumption": "composite good",
    "welfare": "utility",
    "N1": "share of population",
    "p1": "composite good per unit",
    "p2": "composite good per unit",
    "s1": "share of the capital rental",
    "s2": "share of the capital rental",
    "lev1": "share of GDP",
    "lev2": "share of GDP",
    "lev_gap": "share of GDP",
    "debt_gdp": "share of GDP",
    "pubcap_gdp": "ratio to GDP",
    "infra_dep1": "share of GDP",
    "infra_dep2": "share of GDP",
    "servicing_share": "share",
    "land_dep1": "share",
    "land_dep2": "share",
}
UNITS = tuple(
    [(f"steady_state.{k}", "composite good") for k in ("Y", "Kp", "Gc")]
    + [("steady_state.N", "share of population"), ("steady_state.s", "share of the capital rental")]
    + [(f"statistics.{k}", _UNIT.get(k, "ratio")) for k in KEY_STATS]
)


def _nan_like(tree: Any) -> Any:
    return jax.tree_util.tree_map(lambda v: jnp.full(jnp.shape(v), jnp.nan), tree)


def solve(
    params: Params | None = None,
    options: Options | None = None,
    *,
    solver: Solver | None = None,
    throw: bool = True,
    calibrate: bool = False,
    y0: Any = None,
) -> Result:
    """The steady state of the land-debt model, eqs. (1)-(18) of `docs/zhao_liu2024.md`.

    **Arguments:**

    - `params`, `options`, `solver`: the model's inputs (defaults: the printed calibration).
    - `throw`: raise `ConvergenceError` when the solve (or the calibration)
      fails; `False`: return the flags (outcomes NaN).
    - `calibrate`: first recalibrate `(A_1, xi, k_bar, omega)` to `TARGETS` (immobile
      labour, exogenous attraction), then solve under `options`.
    - `y0`: a starting point (the solver's flat vector; default
      `initial_guess`).

    **Returns:** a `Result` with named unknowns and the outcome sections
    `steady_state` (levels per city) and `statistics` (`KEY_STATS`)."""
    p, o, s = check_inputs(params, options, solver)
    check_single("land_debt", p)
    csol: Solution | None = None
    if calibrate:
        pc, csol = calibrate_joint(p, o, throw=False)
        if not isinstance(csol.converged, jax.core.Tracer) and not bool(csol.converged):
            note = (
                f"--calibrate: the calibration of (A_1, xi, k_bar, omega) to the targets {TARGETS} did not "
                f"converge (residual {float(csol.residual_norm):.3e} after {int(csol.steps)} steps: "
                f"{csol.message}); no steady state solved"
            )
            if throw:
                raise ConvergenceError(f"land_debt: {note}")
            y_nan = jnp.full((n_unknowns(o),), jnp.nan)
            u = named(y_nan, o)
            return Result(
                unknowns=u,
                outcomes=_nan_like(outcomes(u, p, o)),
                converged=jnp.asarray(False),
                residual_norm=csol.residual_norm,
                steps=csol.steps,
                code=csol.code,
                params=p,
                model="land_debt",
                options=o,
                solver=s,
                units=UNITS,
                note=note,
            )
        p = pc
        if not isinstance(csol.converged, jax.core.Tracer):
            validate(p)
    y_start = initial_guess(p, o) if y0 is None else y0
    sol = engine_solve(ss_fn, y_start, (p, o), throw=False, **s.engine_kw())
    conv, code, steps = sol.converged, sol.code, sol.steps
    if csol is not None:  # traced calibration: combine the flags
        conv = conv & csol.converged
        code = jnp.where(csol.code != 0, csol.code, code)
        steps = steps + csol.steps
    u = named(sol.value, o)
    raw = outcomes(u, p, o)
    masked = jax.tree_util.tree_map(lambda v: jnp.where(conv, v, jnp.nan), raw)
    out = {sec: {k: masked[sec][k] for k in raw[sec]} for sec in raw}  # keep the reporting order
    result = Result(
        unknowns=u,
        outcomes=out,
        converged=conv,
        residual_norm=sol.residual_norm,
        steps=steps,
        code=code,
        params=p,
        model="land_debt",
        options=o,
        solver=s,
        units=UNITS,
    )
    if throw and not isinstance(conv, jax.core.Tracer) and not bool(conv):
        raise ConvergenceError(
            f"land_debt: the steady state did not converge: residual {float(sol.residual_norm):.3e} after "
            f"{int(sol.steps)} steps ({result.message}); try a starting point y0 or more Solver(max_steps=...)"
        )
    return result


# ------------------------------------------------------------------------------------------------
# helpers for studies on the flat unknown vector (experiments, draws, transitions)
# ------------------------------------------------------------------------------------------------


def guess_for(y_base: Any, o: Options) -> jax.Array:
    """Extend a baseline (immobile, exogenous) steady state `y_base[..., :6]` to the unknowns of `o`."""
    y = [y_base[..., 0:6]]
    lead = y_base.shape[:-1]
    if o.mobility == "mobile":
        y.append(jnp.broadcast_to(jnp.log(0.4 / 0.6), lead + (1,)))
    if o.attraction == "optimal":
        y.append(jnp.full(lead + (2,), 0.05))
    return jnp.concatenate(y, axis=-1)


def stack_params(ps: list[Params]) -> Params:
    """Stack parameter sets along a new leading (batch) axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x, jnp.float64) for x in xs]), *ps)


def batch_statistics(pb: Params, o: Options, y0b: Any, solver: Solver | None = None) -> tuple[dict, Solution]:
    """Solve a batch of steady states (leading axis on every leaf) with the engine's `solve_batch`
    and return every statistic (NaN where a member failed) and the batched solution."""
    s = Solver() if solver is None else solver
    sols = engine_solve_batch(ss_fn, y0b, (pb, o), chunk_size=64, **s.engine_kw())
    y = sols.value_or_nan()
    out = jax.vmap(lambda yy, pp: statistics(yy, pp, o))(y, pb)
    return {k: np.asarray(v) for k, v in out.items()}, sols


#: the parameters `--calibrate` chooses (A only through its first element, A_1)
CALIBRATED = ("A", "xi", "k_bar", "omega")


def _prepare(ns: Any) -> dict[str, Any]:
    calibrate = bool(getattr(ns, "calibrate", False))
    if calibrate:  # a value the calibration would replace is refused, not dropped in silence
        from landjax._cli_common import parse_pairs

        given = {**parse_pairs(getattr(ns, "option", []), "option"), **parse_pairs(getattr(ns, "set", []), "set")}
        for name in CALIBRATED:
            if name not in given:
                continue
            if name == "A":
                try:
                    if float(given["A"].split(",")[0]) == float(np.asarray(Params().A)[0]):
                        continue
                except ValueError:
                    pass
            what = "A_1 (the first value of A)" if name == "A" else name
            raise InputError(
                f"--set {name}: --calibrate chooses {what} to hit the targets, so this value would be "
                "replaced; drop one of the two"
            )
    return {"calibrate": calibrate}


solve_batch = batched(solve, "land_debt")


MODEL = ModelSpec(
    name="land_debt",
    title="Zhao & Liu (2024) two-city model of land finance and local-government debt (steady state)",
    Params=Params,
    Options=Options,
    Solver=Solver,
    solve=solve,
    solve_batch=solve_batch,
    flags=(
        CliFlag(
            "--calibrate",
            "recalibrate A_1, xi, k_bar, omega to the targets (immobile baseline) before solving",
            kind="switch",
        ),
    ),
    prepare=_prepare,
)

sweep = sweep_for(MODEL, "columns: parameters, options, solver settings")
