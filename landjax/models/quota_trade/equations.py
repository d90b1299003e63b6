"""The counterfactual equilibrium of Ma & Ni in exact hats (x' / x), eqs. (1)-(17).

Given the unknown `x = log L-hat` (residents by destination), each city's goods output follows
from the production function (eq. (1)) with TFP driven by infrastructure spending (eq. (16)),
which is land revenue plus quota money (eq. (17)): `Y-hat = K (Y-hat + f)^rho` with
`K = L-hat^alpha R^Y-hat^(1-alpha)`, solved for its largest root (`tfp_root`). Wages are
`w-hat = Y-hat / L-hat` (eq. (2)), house prices follow from housing supply and demand (eqs.
(5)-(7), (12)-(14)), real income `V-hat = w-hat / P^h-hat^eta` (eq. (8)), migration shares
`m'_od = m_od (V-hat_d / c-hat_od)^kappa / D_o` (eq. (9)) and residents `L'_d = sum_o m'_od L0_o`
(eq. (10)); the equilibrium is the fixed point of that last map (`hat_map`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass
from landjax.errors import InputError, as_float64
from landjax.models.quota_trade.baseline import Baseline, Shock
from landjax.models.quota_trade.params import Params

#: a denominator at most this large (in absolute value) counts as zero in :func:`safe_div`
SAFE_DIV_THRESHOLD = 0.0


def safe_div(num: Any, den: Any, threshold: float = SAFE_DIV_THRESHOLD, fill: float = 0.0) -> jax.Array:
    """`num / den` where `|den| > threshold`, else `fill` (with a zero, finite gradient there).

    The one guarded division of the model: pools without buyers (eqs. (18)-(19)), balanced
    prices (eq. (20)) and gap ratios whose baseline gap is zero (the statistics).
    """
    ok = jnp.abs(den) > threshold
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), fill)


@params_dataclass
class Equilibrium:
    """Counterfactual equilibrium in hats (x' / x) with solver flags."""

    L_hat: jax.Array
    Y_hat: jax.Array
    w_hat: jax.Array
    V_hat: jax.Array
    W_hat: jax.Array
    Ph_hat: jax.Array
    H_hat: jax.Array
    G_hat: jax.Array
    A_hat: jax.Array
    Pry_hat: jax.Array
    Prh_hat: jax.Array
    D: jax.Array
    feasible_city: jax.Array
    feasible: jax.Array
    converged: jax.Array
    residual_norm: jax.Array
    steps: jax.Array
    code: jax.Array

    @property
    def ok(self):
        return self.converged & self.feasible


def _tfp_bound(K, rho):
    """Smallest admissible f: a root of y = K (y+f)^rho exists iff f >= -((1-rho)/rho) (rho K)^(1/(1-rho))."""
    return -((1.0 - rho) / rho) * (rho * K) ** (1.0 / (1.0 - rho))


def _bound_from_u(u, rho):
    """`_tfp_bound` written with `u = K^(1/(1-rho))` (the root at f = 0), so no power is taken again."""
    return -((1.0 - rho) / rho) * rho ** (1.0 / (1.0 - rho)) * u


#: Newton steps taken before the first convergence test: from the series start below, three steps
#: reach machine precision for |f| / u up to about 0.25 (four up to 0.45), so the loop that follows
#: usually ends at once
_TFP_UNROLLED = 3


def _tfp_root_newton(K, u, f, rho):
    """Largest root of y = K (y + f)^rho by Newton's method, given `u = K^(1/(1-rho))`.

    The function phi(y) = y - K (y + f)^rho is convex, so Newton's method started right of its
    minimum (the tangency point) approaches the largest root from the right after at most one
    step. The start is the second-order series of the root in g = f / u,
    `y = u (1 + rho g / (1 - rho) - rho g^2 / (2 (1 - rho)^2))`, where that lies right of the
    tangency and |g| < 0.5, else the upper bound `u 2^(rho/(1-rho)) + |f|`. Iterates stop when a
    Newton step is below 1e-15 relative (at most 200 steps)."""
    f_eff = jnp.maximum(f, _bound_from_u(u, rho))  # infeasible cities: the tangency point (flagged)
    g = f_eff / u
    t0 = 1.0 + rho * g / (1.0 - rho) - rho * g * g / (2.0 * (1.0 - rho) ** 2)
    right_of_tangency = t0 + g > rho ** (1.0 / (1.0 - rho)) * (1.0 + 1e-6)
    upper = u * 2.0 ** (rho / (1.0 - rho)) + jnp.abs(f_eff)
    y0 = jnp.where(right_of_tangency & (jnp.abs(g) < 0.5), u * t0, upper)
    lower = jnp.maximum(-f_eff, 0.0) * (1.0 + 1e-15) + 1e-300

    def body(c):
        y, _, i = c
        z = y + f_eff
        zr = jnp.exp(rho * jnp.log(z))
        phi = y - K * zr
        dphi = 1.0 - rho * K * zr / z
        step = jnp.where(dphi > 0, phi / jnp.where(dphi > 0, dphi, 1.0), 0.0)
        return jnp.maximum(y - step, lower), step, i + 1

    def cond(c):
        y, step, i = c
        return (i < 200) & jnp.any(jnp.abs(step) > 1e-15 * jnp.maximum(y, 1e-300))

    c = (y0, jnp.ones_like(y0), jnp.asarray(0))
    for _ in range(_TFP_UNROLLED):
        c = body(c)
    y, _, _ = jax.lax.while_loop(cond, body, c)
    return y


@jax.custom_jvp
def _tfp_root_given_u(K, u, f, rho):
    """`tfp_root` when `u = K^(1/(1-rho))` is already known. Derivatives by the implicit function
    theorem on the scalar equation (zero at infeasible points); `u` only places the start of the
    iteration, not the root, so its tangent does not enter."""
    return _tfp_root_newton(K, u, f, rho)


@_tfp_root_given_u.defjvp
def _tfp_root_given_u_jvp(primals, tangents):
    K, u, f, rho = primals
    dK, _du, df, drho = tangents
    y = _tfp_root_newton(K, u, f, rho)
    z = y + f
    zr = z**rho
    phi_y = 1.0 - rho * K * zr / z
    ok = phi_y > 1e-12
    inv = jnp.where(ok, 1.0 / jnp.where(ok, phi_y, 1.0), 0.0)
    num = zr * dK + rho * K * zr / z * df + K * zr * jnp.log(z) * drho
    return y, num * inv


def tfp_root(K, f, rho):
    """Largest root y of y = K (y + f)^rho with K = L-hat^alpha RY-hat^(1-alpha), eqs. (1), (16), (17).

    Newton's method (`_tfp_root_newton`: a series start, monotone from the right). Where no
    root exists (f below `_tfp_bound`: the quota payment exceeds what land revenue can
    finance) it returns the tangency point; callers flag
    it. Derivatives by the implicit function theorem on the scalar equation (zero at infeasible
    points)."""
    return _tfp_root_given_u(K, jnp.exp(jnp.log(K) / (1.0 - rho)), f, rho)


def _migration_weights(baseline: Baseline, shock: Shock, kappa) -> jax.Array:
    """m_od * c-hat_od^(-kappa), the migration weights of eq. (9)."""
    if shock.c_hat is None:
        return baseline.m
    return baseline.m * jnp.asarray(shock.c_hat) ** (-kappa)


def _block(x, baseline: Baseline, shock: Shock, params: Params, Mt):
    """Everything given x = log L-hat: output (eqs. (1), (16), (17)), wages (eq. (2)), real income
    (eqs. (5)-(8), (12)-(14)), the migration denominators (eq. (9)) and the update of eq. (10)
    (`logLnew`, in logs). Written in logs so that a step takes few transcendental functions."""
    al, et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    Lh = jnp.exp(x)
    logK = al * x + (1.0 - al) * jnp.log(shock.RY_hat)
    K = jnp.exp(logK)
    if params.closure == "endogenous":
        rho = jnp.asarray(rh, dtype=jnp.float64) * jnp.ones_like(K)
        u = jnp.exp(logK / (1.0 - rho))  # K^(1/(1-rho)), the root at f = 0
        Yh = _tfp_root_given_u(K, u, shock.f, rho)
        feas = shock.f >= _bound_from_u(u, rh) * (1.0 + 1e-12)
        Gh = Yh + shock.f
    else:  # fixed_price: G' = GY RY-hat + GH RH-hat + F'
        Gh = (baseline.GY * shock.RY_hat + baseline.GH * shock.RH_hat) / baseline.G + shock.f
        feas = Gh > 0
        Yh = jnp.where(feas, Gh, 1.0) ** rh * K
    wh = Yh / Lh
    logV = (1.0 - et) * (jnp.log(Yh) - x) - et * (1.0 - si) * x + et * (1.0 - si) * jnp.log(shock.RH_hat)
    c = jax.lax.stop_gradient(jnp.max(logV))
    ke = ka * (logV - c)
    e = jnp.exp(ke)
    Ds = Mt @ e  # D_o / exp(kappa c)
    inflow = Mt.T @ (baseline.L0 / Ds)
    logLnew = ke + jnp.log(inflow) - jnp.log(baseline.L)
    return dict(
        Lh=Lh, Yh=Yh, wh=wh, Gh=Gh, logV=logV, logD=jnp.log(Ds) + ka * c, feas=feas, logLnew=logLnew, e=e, Ds=Ds
    )


def hat_map(x, args):
    """The equilibrium map x -> log L'-hat of eqs. (9)-(10), x = log L-hat; `args = (baseline, shock,
    params, Mt)`."""
    baseline, shock, params, Mt = args
    return _step(x, baseline, shock, params, Mt)


@jax.jit
def _step(x, baseline, shock, params, Mt):
    """`hat_map`'s body as its own program: a solver traces the map several times (the loop's
    first step and body, the residual, the tangent), and a jitted body is traced once per shape."""
    return _block(x, baseline, shock, params, Mt)["logLnew"]


def _equilibrium(x, sol, baseline, shock, params, Mt) -> Equilibrium:
    _al, _et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    b = _block(x, baseline, shock, params, Mt)
    Lh, Yh, wh = b["Lh"], b["Yh"], b["wh"]
    Vh = jnp.exp(b["logV"])
    D = jnp.exp(b["logD"])
    Ph_hat = wh * Lh ** (1.0 - si) * shock.RH_hat ** (si - 1.0)  # eqs. (5)-(7), (12)-(14)
    H_hat = Lh**si * shock.RH_hat ** (1.0 - si)
    feas = jnp.all(b["feas"])
    return Equilibrium(
        L_hat=Lh,
        Y_hat=Yh,
        w_hat=wh,
        V_hat=Vh,
        W_hat=D ** (1.0 / ka),
        Ph_hat=Ph_hat,
        H_hat=H_hat,
        G_hat=b["Gh"],
        A_hat=b["Gh"] ** rh,
        Pry_hat=Yh / shock.RY_hat,
        Prh_hat=wh * Lh / shock.RH_hat,
        D=D,
        feasible_city=b["feas"],
        feasible=feas,
        converged=sol.converged,
        residual_norm=sol.residual_norm,
        steps=sol.steps,
        code=sol.code,
    )


def check_shock(baseline: Baseline, shock: Shock) -> Shock:
    """Validate a shock against its baseline (InputError naming the field) and return it with every
    concrete array in float64 (other float dtypes are converted with a `DtypeWarning`)."""
    n = baseline.L0.shape[-1]
    out: dict[str, Any] = {}
    for name in ("RY_hat", "RH_hat", "f", "c_hat"):
        v = getattr(shock, name)
        if v is None:
            out[name] = v
            continue
        want = (n, n) if name == "c_hat" else (n,)
        if jnp.shape(v)[-len(want) :] != want:
            raise InputError(f"Shock.{name}: expected trailing shape {want} (N = {n} cities), got {jnp.shape(v)}")
        if isinstance(v, jax.core.Tracer):
            out[name] = v
            continue
        v = as_float64(v, name=f"Shock.{name}")
        a = np.asarray(v)
        if not np.all(np.isfinite(a)):
            raise InputError(
                f"Shock.{name}: contains NaN or inf (first at flat index {int(np.argmax(~np.isfinite(a)))})"
            )
        if name == "c_hat" and np.any(a <= 0):
            raise InputError(
                f"Shock.c_hat: migration cost changes must be positive (first at flat index {int(np.argmax(a <= 0))})"
            )
        if name in ("RY_hat", "RH_hat") and np.any(a <= 0):
            raise InputError(
                f"Shock.{name}: land hats must be positive (a city cannot sell all its land); "
                f"first bad city index {int(np.argmax(a <= 0))}"
            )
        out[name] = v
    return Shock(**out)


def residual(x: jax.Array, baseline: Baseline, shock: Shock, params: Params) -> jax.Array:
    """The equilibrium conditions at `x = log L-hat`: `hat_map(x) - x` (eq. (10) with the
    migration shares of eq. (9); zero exactly at an equilibrium)."""
    Mt = _migration_weights(baseline, shock, params.kappa)
    return hat_map(x, (baseline, shock, params, Mt)) - x


def equilibrium_at(x: jax.Array, baseline: Baseline, shock: Shock, params: Params, sol: Any = None) -> Equilibrium:
    """The `Equilibrium` (every hat) implied by `x = log L-hat`; solver flags from `sol`
    (an engine `Solution`; without it, converged where the residual is below 1e-10)."""
    Mt = _migration_weights(baseline, shock, params.kappa)
    if sol is None:
        r = jnp.max(jnp.abs(hat_map(x, (baseline, shock, params, Mt)) - x))
        sol = _Flags(converged=r <= 1e-10, residual_norm=r, steps=jnp.asarray(0), code=jnp.asarray(0))
    return _equilibrium(x, sol, baseline, shock, params, Mt)


@params_dataclass
class _Flags:
    converged: Any
    residual_norm: Any
    steps: Any
    code: Any


def migration_shares(baseline: Baseline, shock: Shock, eq: Equilibrium, params: Params | None = None) -> jax.Array:
    """Counterfactual migration shares m'_od = m_od (V-hat_d / c-hat_od)^kappa / D_o, eq. (9)."""
    params = Params() if params is None else params
    Mt = _migration_weights(baseline, shock, params.kappa)
    return Mt * eq.V_hat[None, :] ** params.kappa / eq.D[:, None]
