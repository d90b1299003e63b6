"""Perfect-foresight transitions of the two-city land-debt model (eqs. (6), (8)-(16) of
`docs/zhao_liu2024.md`; the paper's own equations are not public).

Unknowns per period `t = 0..T-1` (`n = 11`, period-major `y = x.reshape(-1)`):

```text
[ln Y_1t, ln Y_2t, ln K^p_1,t+1, ln K^p_2,t+1, ln G^c_1t, ln G^c_2t,
 ln q^f_1t, ln q^f_2t, ln P^h_1t, ln P^h_2t, logit N_1,t+1]
```

The residual of period `t` uses only `x_{t-1}, x_t, x_{t+1}` (`x_{-1}` from the old steady
state, `x_T` from the new one), so the stacked Jacobian is block-tridiagonal and
`landjax.engine.BlockTridiagonal` solves both the Newton steps and the implicit-
differentiation tangents in `O(T n^3)`. Under immobile labour the migration row keeps
`N_1 = N_bar_1` (one uniform block size for every experiment: 10 unknowns + 1).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass, static_field
from landjax.engine import BlockTridiagonal
from landjax.engine import solve as engine_solve
from landjax.models.land_debt import equations as eq
from landjax.models.land_debt.options import Options
from landjax.models.land_debt.params import PER_CITY, Params, unchecked_replace
from landjax.models.land_debt.steady import maybe_raise, solve_steady_state

N_PER_PERIOD = 11


@params_dataclass
class TransitionArgs:
    """Everything the stacked residual needs: new-regime parameters, boundary conditions.

    `x_old`/`x_new`: period vectors of the old/new steady states (initial conditions K^p_0,
    N_10 from `x_old`; terminal q^f_T, P^h_T, Lambda_T, p_T Y_T from `x_new`); `B_old`, `K_old`:
    predetermined debt B_-1 and private capital K_0; `L_old`: land before the shock (the land
    path ramps linearly to `p.L` over `ramp` years); `options`: the new regime's options."""

    p: Any
    x_old: Any
    x_new: Any
    B_old: Any
    K_old: Any
    L_old: Any
    T: int = static_field(default=150)
    ramp: int = static_field(default=10)
    options: Any = static_field(default=Options())


def ss_to_period(y_ss, p: Params, o: Options):
    """Steady state (flat steady-state unknowns) -> one period vector of the transition layout."""
    q = eq.ss_blocks(y_ss, p, o)
    N1 = q["N"][0]
    return jnp.concatenate(
        [
            jnp.log(q["Y"]),
            jnp.log(q["Kp"]),
            jnp.log(q["Gc"]),
            jnp.log(q["qf"]),
            jnp.log(q["Ph"]),
            jnp.reshape(jnp.log(N1 / (1.0 - N1)), (1,)),
        ]
    )


def _rowwise(p: Params) -> Params:
    """`p` with every per-city array as a `(1, 2)` row, to combine with `(T, 2)` paths
    without implicit rank promotion."""
    return unchecked_replace(p, **{k: jnp.asarray(getattr(p, k))[None, :] for k in PER_CITY})


def land_path(a: TransitionArgs):
    """Land L_t for t = -1..T: linear ramp from L_old to p.L over `ramp` years (the quota path)."""
    t = jnp.arange(-1, a.T + 1, dtype=jnp.float64)
    frac = jnp.clip((t + 1.0) / a.ramp, 0.0, 1.0)[:, None]
    return a.L_old[None, :] + (a.p.L - a.L_old)[None, :] * frac


def _blocks(y, a: TransitionArgs) -> dict:
    """Period-t quantities (arrays with a leading T axis), eqs. (8)-(15)."""
    p, T, n = _rowwise(a.p), a.T, N_PER_PERIOD
    Xall = jnp.concatenate([a.x_old[None, :], y.reshape(T, n), a.x_new[None, :]], axis=0)
    prev, cur, nxt = Xall[:-2], Xall[1:-1], Xall[2:]
    Lp = land_path(a)
    L_prev, L_cur, L_next = Lp[:-2], Lp[1:-1], Lp[2:]
    r, rk = eq.rates(p)
    ak = eq.a_k(p)
    kb = eq.k_bar_eff(p, a.options)
    hs = p.chi / (1.0 + p.chi)
    lnY, lnY_next = cur[:, 0:2], nxt[:, 0:2]
    lnX, lnp = eq.armington(lnY, p)
    _, lnp_next = eq.armington(lnY_next, p)
    pY = jnp.exp(lnp + lnY)
    pY_next = jnp.exp(lnp_next + lnY_next)
    Kp, Kp_next = jnp.exp(prev[:, 2:4]), jnp.exp(cur[:, 2:4])
    Gc, Gc_next = jnp.exp(cur[:, 4:6]), jnp.exp(nxt[:, 4:6])
    qf, qf_next = jnp.exp(cur[:, 6:8]), jnp.exp(nxt[:, 6:8])
    Ph, Ph_next = jnp.exp(cur[:, 8:10]), jnp.exp(nxt[:, 8:10])
    N1, N1_next = jax.nn.sigmoid(prev[:, 10]), jax.nn.sigmoid(cur[:, 10])
    N = jnp.stack([N1, 1.0 - N1], axis=1)
    first = (jnp.arange(T) == 0)[:, None]
    # private capital: predetermined K_0, rental condition eq. (9) for t >= 1
    K = jnp.where(first, a.K_old[None, :], ak * (1.0 - p.tau) * pY / ((1.0 - p.s) * rk))
    Ke = Kp + p.psi_s * kb * L_cur
    Ke_next = Kp_next + p.psi_s * kb * L_next
    lam = p.lam
    rho_f = p.a_l * (1.0 - p.tau) * pY / (lam * L_cur)
    w = p.a_n * (1.0 - p.tau) * pY / N
    R = hs * w * N / ((1.0 - lam) * L_cur)
    V_cur = qf * lam * L_cur + Ph * (1.0 - lam) * L_cur
    V_next = qf_next * lam * L_next + Ph_next * (1.0 - lam) * L_next
    B = p.theta_L * V_next + p.theta_K * (Kp_next + kb * L_next)  # binding collateral, eq. (15)
    B_prev = jnp.where(first, a.B_old[None, :], p.theta_L * V_cur + p.theta_K * (Kp + kb * L_cur))
    LR = (qf * lam + Ph * (1.0 - lam)) * (p.delta_L * L_prev + (L_cur - L_prev)) - p.s * rk * K  # eq. (12)
    Ip = Kp_next - (1.0 - p.delta_g) * Kp
    Is = kb * (L_next - (1.0 - p.delta_g) * L_cur)
    return dict(
        lnX=lnX,
        lnp=lnp,
        lnY=lnY,
        pY=pY,
        pY_next=pY_next,
        Kp=Kp,
        Kp_next=Kp_next,
        Gc=Gc,
        Gc_next=Gc_next,
        qf=qf,
        qf_next=qf_next,
        Ph=Ph,
        Ph_next=Ph_next,
        N=N,
        N1_next=N1_next,
        K=K,
        Ke=Ke,
        Ke_next=Ke_next,
        rho_f=rho_f,
        w=w,
        R=R,
        V=V_cur,
        B=B,
        B_prev=B_prev,
        LR=LR,
        Ip=Ip,
        Is=Is,
        L=L_cur,
        r=r,
        rk=rk,
    )


def transition_residual(y, a: TransitionArgs):
    """Stacked residuals: per period production eq. (8), government budget eq. (13), infrastructure
    Euler equation eq. (16), the two lease-price recursions eq. (11) and the migration law eq. (6)."""
    p = _rowwise(a.p)
    q = _blocks(y, a)
    ak = eq.a_k(p)
    r = q["r"]
    res_prod = q["lnY"] - (
        jnp.log(p.A)
        + p.gamma * jnp.log(q["Ke"])
        + ak * jnp.log(q["K"])
        + p.a_n * jnp.log(q["N"])
        + p.a_l * jnp.log(p.lam * q["L"])
    )
    res_budget = (
        q["Gc"] + q["Ip"] + q["Is"] + (1.0 + r) * q["B_prev"] + p.g_bar * p.N_bar - p.tau * q["pY"] - q["LR"] - q["B"]
    ) / q["pY"]
    Lam, Lam_next = (1.0 - p.xi) / q["Gc"], (1.0 - p.xi) / q["Gc_next"]
    eta = Lam - p.beta_g * (1.0 + r) * Lam_next
    v = eq.land_value_multiple(p)
    gt = eq.gamma_tilde(p)
    phi = eq.fiscal_yield(p, p.s)
    mpk = gt * q["pY_next"] / q["Ke_next"]
    rhs = eta * (p.theta_K + p.theta_L * v * mpk) + p.beta_g * (
        p.xi * gt / q["Ke_next"] + Lam_next * (phi * mpk + 1.0 - p.delta_g)
    )
    res_foc = rhs / Lam - 1.0
    disc = p.beta * (1.0 - p.delta_L)
    res_q = jnp.log(q["qf"]) - jnp.log(q["rho_f"] + disc * q["qf_next"])
    res_P = jnp.log(q["Ph"]) - jnp.log(q["R"] + disc * q["Ph_next"])
    N1 = q["N"][:, 0]
    if a.options.mobility == "mobile":
        Vu = eq.indirect_utility(q["w"], q["R"], p)
        Nstar = jax.vmap(lambda V: eq.location_shares(V, a.p)[0][0])(Vu)
    else:
        Nstar = a.p.N_bar[0] + 0.0 * N1
    res_mig = q["N1_next"] - (N1 + p.rho_N * (Nstar - N1))
    out = jnp.concatenate([res_prod, res_budget, res_foc, res_q, res_P, res_mig[:, None]], axis=1)
    return out.reshape(-1)


def path_statistics(y, a: TransitionArgs) -> dict:
    """Paths (length T) of the reported statistics, eq. (20), along a transition."""
    p = _rowwise(a.p)
    q = _blocks(y, a)
    lev = q["B"] / q["pY"]
    own = p.tau * q["pY"] + q["LR"]
    return {
        "t": jnp.arange(a.T),
        "lev1": lev[:, 0],
        "lev2": lev[:, 1],
        "lev_gap": lev[:, 1] - lev[:, 0],
        "Ph1": q["Ph"][:, 0],
        "Ph2": q["Ph"][:, 1],
        "house_price_gap": q["Ph"][:, 0] / q["Ph"][:, 1],
        "X": jnp.exp(q["lnX"]),
        "pY1": q["pY"][:, 0],
        "pY2": q["pY"][:, 1],
        "output_gap": q["pY"][:, 0] / q["pY"][:, 1],
        "income_gap": (q["pY"][:, 0] / q["N"][:, 0]) / (q["pY"][:, 1] / q["N"][:, 1]),
        "N1": q["N"][:, 0],
        "land_dep1": q["LR"][:, 0] / own[:, 0],
        "land_dep2": q["LR"][:, 1] / own[:, 1],
        "eta_over_lambda1": 1.0 - p.beta_g * (1.0 + q["r"]) * q["Gc"][:, 0] / q["Gc_next"][:, 0],
        "eta_over_lambda2": 1.0 - p.beta_g * (1.0 + q["r"]) * q["Gc"][:, 1] / q["Gc_next"][:, 1],
        "L1": q["L"][:, 0],
        "L2": q["L"][:, 1],
    }


path_statistics_jit = jax.jit(path_statistics)


def make_args(
    p_old: Params,
    y_old,
    p_new: Params,
    y_new,
    *,
    o_old: Options | None = None,
    o_new: Options | None = None,
    T: int = 150,
    ramp: int = 10,
) -> TransitionArgs:
    """Boundary conditions from the old and new steady states (options `o_old`, `o_new`)."""
    o_old = Options() if o_old is None else o_old
    o_new = Options() if o_new is None else o_new
    qo = eq.ss_blocks(y_old, p_old, o_old)
    return TransitionArgs(
        p=p_new,
        x_old=ss_to_period(y_old, p_old, o_old),
        x_new=ss_to_period(y_new, p_new, o_new),
        B_old=qo["B"],
        K_old=qo["K"],
        L_old=p_old.L,
        T=int(T),
        ramp=int(ramp),
        options=o_new,
    )


def initial_path(a: TransitionArgs, decay: float = 0.85):
    """Guess: geometric approach from the old to the new steady state."""
    t = jnp.arange(a.T, dtype=jnp.float64)[:, None]
    x = a.x_new[None, :] + (a.x_old - a.x_new)[None, :] * decay ** (t + 1.0)
    return x.reshape(-1)


def linear_solver_for(name: str):
    if name in ("block", "block_tridiagonal"):
        return BlockTridiagonal(N_PER_PERIOD)
    if name == "dense":
        return "dense"
    raise ValueError(f"linear_solver must be 'block' or 'dense', got {name!r}")


def solve_transition(
    a: TransitionArgs,
    y0=None,
    *,
    linear_solver: str = "block",
    throw: bool = True,
    ftol: float = 1e-10,
    max_steps: int = 40,
):
    """Solve the stacked system by Newton (engine, native backend) with implicit differentiation.

    `linear_solver='block'` (default) uses `landjax.engine.BlockTridiagonal`; `'dense'`
    materialises the full `(11 T)^2` Jacobian (acceptable for T <= 200, used for comparison)."""
    y0 = initial_path(a) if y0 is None else y0
    opts = dict(
        method="newton",
        backend="native",
        linear_solver=linear_solver_for(linear_solver),
        tol=1e-14,
        ftol=ftol,
        max_steps=max_steps,
    )
    sol = engine_solve(transition_residual, y0, a, throw=False, **opts)
    return maybe_raise(sol, throw, f"land_debt transition (T={a.T})")


def run_transition(
    p_old: Params,
    p_new: Params,
    *,
    o_old: Options | None = None,
    o_new: Options | None = None,
    T: int = 150,
    ramp: int = 10,
    y_old=None,
    y_new=None,
    linear_solver: str = "block",
    throw: bool = True,
):
    """Old steady state -> new steady state -> transition. Returns `(solution, args, y_old, y_new)`.

    Differentiable end to end (each solve carries implicit differentiation)."""
    o_old = Options() if o_old is None else o_old
    o_new = Options() if o_new is None else o_new
    if y_old is None:
        y_old = solve_steady_state(p_old, o_old, throw=throw).value
    if y_new is None:
        guess = y_old if (o_new.mobility == o_old.mobility and o_new.attraction == o_old.attraction) else None
        y_new = solve_steady_state(p_new, o_new, guess, throw=throw).value
    a = make_args(p_old, y_old, p_new, y_new, o_old=o_old, o_new=o_new, T=T, ramp=ramp)
    sol = solve_transition(a, linear_solver=linear_solver, throw=throw)
    return sol, a, y_old, y_new


def statistic_after(
    stat: str,
    years: int,
    p_old: Params,
    p_new: Params,
    *,
    o_old: Options | None = None,
    o_new: Options | None = None,
    T: int = 150,
    ramp: int = 10,
    linear_solver: str = "block",
):
    """A path statistic in year `years` (e.g. the leverage gap after 10 years); pure JAX, so it is
    differentiable in every array leaf of `p_old`/`p_new` through three implicit solves."""
    sol, a, _, _ = run_transition(
        p_old, p_new, o_old=o_old, o_new=o_new, T=T, ramp=ramp, linear_solver=linear_solver, throw=False
    )
    return path_statistics(sol.value_or_nan(), a)[stat][years]


def scipy_root_transition(a: TransitionArgs, y0=None, method: str = "hybr"):
    """Reference solve of the same stacked residual with `scipy.optimize.root` (benchmarks)."""
    from scipy.optimize import root

    f = jax.jit(lambda y: transition_residual(y, a))
    jac = jax.jit(jax.jacfwd(lambda y: transition_residual(y, a)))
    y0 = np.asarray(initial_path(a) if y0 is None else y0)
    return root(
        lambda y: np.asarray(f(jnp.asarray(y))),
        y0,
        jac=lambda y: np.asarray(jac(jnp.asarray(y))),
        method=method,
        tol=1e-12,
    )


__all__ = [
    "TransitionArgs",
    "transition_residual",
    "path_statistics",
    "make_args",
    "solve_transition",
    "run_transition",
    "statistic_after",
    "ss_to_period",
    "scipy_root_transition",
    "N_PER_PERIOD",
]
