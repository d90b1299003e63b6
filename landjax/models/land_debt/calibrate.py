"""Calibration of the land-debt model: `(A_1, xi, k_bar)` to the GDP-per-capita ratio, public
capital / GDP and the servicing share of public capital, with `omega = Y / sum Y` so that
`p_j = 1` at the baseline for every sigma (`docs/zhao_liu2024.md`, "Calibration")."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.engine import Solution, solve_batch
from landjax.engine import solve as engine_solve
from landjax.models.land_debt.equations import ss_blocks, steady_state_residual
from landjax.models.land_debt.options import Options, Solver
from landjax.models.land_debt.outcomes import statistics
from landjax.models.land_debt.params import Params, unchecked_replace
from landjax.models.land_debt.steady import check_inputs, initial_guess, maybe_raise, solve_steady_state

#: Newton settings of the joint calibration root (more steps than a steady state)
CALIBRATION_SOLVER = Solver(max_steps=80)


#: default targets: GDP-per-capita ratio east/west, national public capital / GDP, servicing share
TARGETS = {"gdp_pc_ratio": 1.8, "pubcap_gdp": 1.2, "servicing_share": 0.4}


def _calib_residual(z, args):
    """Joint root in (ln Y_j, ln K^p_j, ln G^c_j, ln A_1, logit xi[, ln k_bar]) at p_j = 1 (immobile).

    With p_j = 1 imposed, the Armington weights that make it hold are omega_j = Y_j / sum Y for
    every sigma, so the city blocks need no omega. `args = (params, options, targets)`."""
    p, o, targets = args
    homo = o.variant == "homothetic"
    lnA1, xi = z[6], jax.nn.sigmoid(z[7])
    kb = p.k_bar * 0.0 if homo else jnp.exp(z[8])
    Y = jnp.exp(z[0:2])
    pc = unchecked_replace(p, A=jnp.stack([jnp.exp(lnA1), p.A[1]]), xi=xi, k_bar=kb, omega=Y / jnp.sum(Y))
    oc = o.replace(mobility="immobile", attraction="exogenous")
    res = steady_state_residual(z[0:6], pc, oc)
    q = ss_blocks(z[0:6], pc, oc)
    gdp_pc = (q["pY"][0] / q["N"][0]) / (q["pY"][1] / q["N"][1])
    pub = jnp.sum(q["Kp"] + q["Ks"]) / jnp.sum(q["pY"])
    t = [jnp.log(gdp_pc / targets[0]), jnp.log(pub / targets[1])]
    if not homo:
        t.append(jnp.log(jnp.sum(q["Ks"]) / jnp.sum(q["Kp"] + q["Ks"]) / targets[2]))
    return jnp.concatenate([res, jnp.stack(t)])


def calibration_guess(o: Options) -> jax.Array:
    """Starting point of the joint calibration root."""
    z = [
        jnp.log(jnp.array([1.37, 1.14])),
        jnp.log(jnp.array([0.98, 0.80])),
        jnp.log(jnp.array([0.08, 0.07])),
        jnp.array([jnp.log(1.35), jnp.log(0.934 / 0.066)]),
    ]
    if o.variant != "homothetic":
        z.append(jnp.array([jnp.log(1.2)]))
    return jnp.concatenate(z)


def targets_array(targets: Any = None) -> jax.Array:
    """The three targets as an array (default `TARGETS`)."""
    t = [TARGETS["gdp_pc_ratio"], TARGETS["pubcap_gdp"], TARGETS["servicing_share"]] if targets is None else targets
    return jnp.asarray(t, dtype=jnp.float64)


def calibrate_joint(
    p: Params, o: Options | None = None, targets: Any = None, z0: Any = None, *, throw: bool = True
) -> tuple[Params, Solution]:
    """Calibrate (A_1, xi, k_bar) jointly with the city blocks (one root of eqs. (8), (13), (17) and
    the three targets), then set
    omega = Y / sum Y so that p_j = 1 at baseline for every sigma.

    The `homothetic` variant has k_bar = 0 and calibrates (A_1, xi) to the first two targets.
    **Returns:** `(params, solution)`; `params` are differentiable in `p` and `targets`; the
    calibration is done with immobile labour and exogenous attraction whatever `o` says (only
    `o.variant` matters). Why a joint root rather than `landjax.engine.calibrate` around a nested
    steady-state solve: it is one Newton system of 8-9 unknowns, it runs under `vmap` (the
    random-draw robustness recalibrates 40 parameter sets in one batched solve), and p_j = 1 makes
    omega explicit. `calibrate_nested` runs the engine's `calibrate` as a cross-check.
    """
    p, o, _ = check_inputs(p, o, None)
    z0 = calibration_guess(o) if z0 is None else z0
    sol = engine_solve(
        _calib_residual, z0, (p, o, targets_array(targets)), throw=False, **CALIBRATION_SOLVER.engine_kw()
    )
    maybe_raise(sol, throw, "land_debt calibration (joint root)")
    return params_from_calibration(sol.value, p, o), sol


def params_from_calibration(z: jax.Array, p: Params, o: Options) -> Params:
    """Calibrated parameters from the joint root's unknowns `z` (in range by construction: exp and
    logistic maps; a failed calibration carries its unconverged values and is flagged by its solve)."""
    Y = jnp.exp(z[0:2])
    kb = p.k_bar * 0.0 if o.variant == "homothetic" else jnp.exp(z[8])
    return unchecked_replace(
        p, A=jnp.stack([jnp.exp(z[6]), p.A[1] + 0.0 * z[6]]), xi=jax.nn.sigmoid(z[7]), k_bar=kb, omega=Y / jnp.sum(Y)
    )


def calibrate_nested(p: Params, o: Options | None = None, targets: Any = None) -> Any:
    """Cross-check of `calibrate_joint` with `landjax.engine.calibrate`: (A_1, xi, k_bar)
    -> steady-state solve with omega = Y/sum Y (fixed point handled by solving p_j = 1 directly) -> moments.

    Slower (a steady-state solve per moment evaluation); kept for tests and users who prefer the
    engine's calibration report (`CalibrationResult.to_frame`)."""
    from landjax.engine import calibrate as engine_calibrate

    tg = np.asarray(targets_array(targets))
    base = p
    ob = (Options() if o is None else o).replace(mobility="immobile", attraction="exogenous")

    def moments(theta, _):
        # omega is pinned by p_j = 1: solve the city blocks at p = 1 (omega-free)
        pc = base.replace(A=jnp.stack([theta[0], base.A[1]]), xi=theta[1], k_bar=theta[2])

        def fn(y, pp):
            Y = jnp.exp(y[0:2])
            return steady_state_residual(y, unchecked_replace(pp, omega=Y / jnp.sum(Y)), ob)

        sol = engine_solve(
            fn, initial_guess(pc, ob), pc, backend="native", line_search=True, ftol=1e-11, tol=1e-13, throw=False
        )
        y = sol.value_or_nan()
        Y = jnp.exp(y[0:2])
        st = statistics(y, unchecked_replace(pc, omega=Y / jnp.sum(Y)), ob)
        return jnp.stack([st["income_gap"], st["pubcap_gdp"], st["servicing_share"]])

    res = engine_calibrate(
        moments,
        np.array([1.3, 0.93, 1.2]),
        tg,
        None,
        lower=[0.5, 0.5, 0.0],
        upper=[3.0, 0.999, 5.0],
        param_names=("A_1", "xi", "k_bar"),
        moment_names=tuple(TARGETS),
    )
    return res


def baseline(p: Params | None = None, o: Options | None = None) -> tuple[Params, Solution]:
    """Calibrated baseline parameters and their steady state under options `o`."""
    p = Params() if p is None else p
    pc, _ = calibrate_joint(p, o)
    return pc, solve_steady_state(pc, o)


def calibrate_batch(pb: Params, o: Options | None, targets: Any) -> tuple[Params, jax.Array, np.ndarray]:
    """Recalibrate a batch of parameter sets (leading axis on every leaf) in one batched joint root.

    **Returns:** `(calibrated params, steady-state unknowns (n, 6), converged flags)`; failed
    members carry NaN."""
    o = Options() if o is None else o
    z1 = calibration_guess(o)
    z0 = jnp.broadcast_to(z1, (targets.shape[0], z1.shape[0]))
    sols = solve_batch(
        _calib_residual, z0, (pb, o, jnp.asarray(targets)), chunk_size=64, **CALIBRATION_SOLVER.engine_kw()
    )
    z = sols.value_or_nan()
    pcb = jax.vmap(lambda zz, pp: params_from_calibration(zz, pp, o))(z, pb)
    return pcb, z[:, 0:6], np.asarray(sols.converged)


calibrate = calibrate_joint
