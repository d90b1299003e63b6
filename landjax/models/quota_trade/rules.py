"""The Table 4 allocation rule of Ma & Ni (section 4(4)): score-based quota shares -> a Shock.

In one national pool (both land types, sellers tau^k < 0, buyers tau^k > 0) each city's sell and
buy shares are linear scores of three 2017 covariates,

    phi^Y_sell,d = w1 (R^Y_d/L_d) + w2 A_d + w3 V_d      phi^Y_buy,d = w4 (R^Y_d/L_d) + w5 A_d + w6 V_d
    phi^H_sell,d = w7 (R^H_d/L_d) + w8 A_d + w9 V_d      phi^H_buy,d = w10 (R^H_d/L_d) + w11 A_d + w12 V_d

(H = the paper's U, residential land). The paper prints the scores, not how they become shares;
`RuleOptions` implements by default:

* covariates divided by their cross-city mean (`normalise="mean"`);
* scores cut at zero, `s_d = max(0, omega . x_d)`, and only cities of the right side scored;
* seller shares proportional to the scores and scaled so that the traded area equals the uniform
  15 % volume `0.15 * sum_sellers TS` ("volume fixed"), with every seller's share at most
  `sell_cap = 0.5`; the area a capped seller cannot sell is redistributed to the uncapped ones
  (water-filling), the only way to meet both conditions at once (`sell_cap_mode="clip"` gives
  the literal `min(0.5, 0.15 s sum R / sum s R)` instead);
* buyer shares `s_d / sum s` of the pool, optionally at most `buy_cap` each (same water-filling);
* money at the paper's prices, eq. (20) (`quota_money`,
  the one place it is written), f = F/G.

Everything is differentiable in omega (and in the volume share); every division is guarded
(`safe_div`) so that the gradient is finite (zero)
where a pool has no positive score. `to_shock` goes through the same allocation-to-shock
step as the scenarios (`shock_from_trades`). The Table 4
searches (random search, gradient search, frontier, sensitivities) are study code:
`landjax.reproduce.ma_ni_search`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass, static_field
from landjax.errors import InputError
from landjax.models.quota_trade.baseline import Shock
from landjax.models.quota_trade.equations import safe_div
from landjax.models.quota_trade.options import Options
from landjax.models.quota_trade.policy import quota_money, shock_from_trades

__all__ = [
    "OMEGA_LABELS",
    "RuleOptions",
    "Allocation",
    "safe_div",
    "capped_shares",
    "covariates",
    "allocate",
    "money",
    "uniform_allocation",
    "to_shock",
]

OMEGA_LABELS: tuple[str, ...] = tuple(
    f"{k}_{side}_{cov}" for k in ("Y", "H") for side in ("sell", "buy") for cov in ("R_per_L", "A", "V")
)


# ----------------------------------------------------------------------------------------------
# The rule
# ----------------------------------------------------------------------------------------------


@params_dataclass
class RuleOptions:
    """Options of the Table 4 rule (defaults: the reading of section 4(4) above).

    **Attributes:**

    - `volume_share`: traded area as a share of the sellers' TS (0.15: the uniform volume; a leaf,
      so statistics can be differentiated with respect to it).
    - `sell_cap`: largest share of its own TS one seller may sell (0.5, section 4(4)).
    - `buy_cap`: largest share of a pool one buyer may receive (`inf`: no cap, as the paper; 0.05
      e.g. keeps at least 20 buyers).  Without it the optima pile land onto a few buyers.
    - `normalise`: covariate scaling: `"mean"` (divide by the cross-city mean, the default), `"zscore"`
      (standardise; negative covariates allowed), `"none"` (raw units).
    - `sell_cap_mode`: `"redistribute"` (water-filling: volume held exactly whenever the positive
      scores can carry it under the cap) or `"clip"` (the literal `min(cap, 0.15 s
      sum R / sum s R)`: capped area is simply not sold).
    - `model`: the model's one `Options`; the rule reads the sellers' tradable stock `ts`
      (`"stock"`: TS = R^k, eq. (18); `"surplus"`: TS = -tau R) and the `prices` of eq. (20)
      (`"given"`: 525 / 450-1050 yuan per m2; `"balanced"`: buyer prices rescaled so that
      sum F = 0) from it (`RuleOptions.ts` and `.prices` are views of these, not settings).
    - `shortfall`: when the cities with a positive score cannot carry the volume under a cap (few
      positive scores): `"uniform"` (the rest is spread over that side's zero-score cities, so
      the volume is held; with no positive score the side falls back to the uniform 15 % /
      equal-area rule) or `"shrink"` (the traded volume falls; an optimiser can then use
      the caps to cut the volume, which the fixed-volume rule does not allow).
    """

    volume_share: float = 0.15
    sell_cap: float = 0.5
    buy_cap: float = float("inf")
    normalise: str = static_field(default="mean")
    sell_cap_mode: str = static_field(default="redistribute")
    shortfall: str = static_field(default="uniform")
    model: Options = static_field(default=Options())

    @property
    def ts(self) -> str:
        """The sellers' tradable stock, from the model's `Options.ts` (eq. (18))."""
        return self.model.ts

    @property
    def prices(self) -> str:
        """The quota prices of eq. (20), from the model's `Options.prices`."""
        return self.model.prices

    @classmethod
    def from_options(cls, options: Options, **rule: Any) -> RuleOptions:
        """Rule options whose `ts`, `prices` and `volume_share` come from the model's one
        `Options` (`ts`, `prices`, `share`); `rule`
        sets the rule's own fields (caps, normalisation, shortfall)."""
        if not isinstance(options, Options):
            raise InputError(f"RuleOptions.from_options: expected quota_trade Options, got {type(options).__name__}")
        for k in ("ts", "prices", "volume_share"):
            if k in rule:
                raise InputError(f"RuleOptions.from_options: {k} comes from Options; do not pass it")
        return cls(volume_share=options.share, model=options, **rule)

    def __post_init__(self):
        checks = {
            "normalise": ("mean", "zscore", "none"),
            "sell_cap_mode": ("redistribute", "clip"),
            "shortfall": ("uniform", "shrink"),
        }
        if not isinstance(self.model, Options):
            raise InputError(f"RuleOptions.model: expected quota_trade Options, got {type(self.model).__name__}")
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"RuleOptions.{name}={getattr(self, name)!r}; allowed: {', '.join(allowed)}")
        for name in ("volume_share", "sell_cap", "buy_cap"):
            v = getattr(self, name)
            if isinstance(v, jax.core.Tracer):
                continue
            if isinstance(v, (str, bytes, bool)) or v is None:
                raise InputError(f"RuleOptions.{name}: expected a number, got {v!r}")
            a = np.asarray(v, dtype=np.float64)
            if not np.all(a > 0) or (name != "buy_cap" and not np.all(np.isfinite(a))):
                raise InputError(f"RuleOptions.{name} must be > 0 (finite except buy_cap), got {v}")


@params_dataclass
class Allocation:
    """A quota allocation in the national pool, per city (arrays of length N).

    `phi_sell_*`: share of its TS the city sells; `phi_buy_*`: share of the pool it receives;
    `sold_*`, `bought_*`: areas (m2); `F`: net quota revenue (yuan, eq. 20);
    `volume_*`: area traded; `target_*`: the volume the rule aimed at (volume_share * sum TS).
    """

    phi_sell_Y: jax.Array
    phi_buy_Y: jax.Array
    phi_sell_H: jax.Array
    phi_buy_H: jax.Array
    sold_Y: jax.Array
    bought_Y: jax.Array
    sold_H: jax.Array
    bought_H: jax.Array
    F: jax.Array
    volume_Y: jax.Array
    volume_H: jax.Array
    target_Y: jax.Array
    target_H: jax.Array


def capped_shares(s: jax.Array, w: jax.Array, total: jax.Array, cap, eligible: jax.Array | None = None) -> jax.Array:
    """Shares `phi_d = min(cap, lam * s_d)` with `sum_d w_d phi_d = total` (water-filling).

    `s >= 0` are scores, `w > 0` weights (areas for sellers, 1 for buyers).  The capped set is
    found by repeated capping outside the gradient; `lam` is then recomputed from it, so the
    shares are differentiable in `s`, `w` and `total` (piecewise, away from ties with the cap).
    When even capping every positive-score city cannot reach `total`, all of them are capped
    and the sum falls short; with `eligible` (a mask) the shortfall is then spread uniformly over
    the eligible zero-score cities (`RuleOptions.shortfall="uniform"`; with no positive score at all
    this is the uniform rule).  Without `eligible`, no positive score means all zeros (no trade).
    """
    sw = s * w
    if isinstance(cap, (int, float)) and not np.isfinite(cap):
        phi = safe_div(total, jnp.sum(sw)) * s
        return phi if eligible is None else _top_up(phi, s, w, total, cap, eligible)
    cap = jnp.asarray(cap, dtype=jnp.float64)

    def lam_of(capped, s, w, total):
        free = jnp.sum(jnp.where(capped, 0.0, s * w))
        capped_w = jnp.sum(jnp.where(capped, w, 0.0))
        rest = total - jnp.where(capped_w > 0, cap * capped_w, 0.0)
        return safe_div(jnp.maximum(rest, 0.0), free)

    s_ng, w_ng, t_ng = jax.lax.stop_gradient((s, w, total))

    def cond(state):
        _, changed, i = state
        return changed & (i <= s.shape[0])

    def body(state):
        capped, _, i = state
        lam = lam_of(capped, s_ng, w_ng, t_ng)
        new = capped | ((lam * s_ng > cap) & (s_ng > 0))
        return new, jnp.any(new != capped), i + 1

    capped0 = jnp.zeros(s.shape, dtype=bool)
    capped, _, _ = jax.lax.while_loop(cond, body, (capped0, jnp.array(True), jnp.array(0)))
    lam = lam_of(capped, s, w, total)
    phi = jnp.where(capped, cap, jnp.minimum(lam * s, cap))
    return phi if eligible is None else _top_up(phi, s, w, total, cap, eligible)


def _top_up(phi, s, w, total, cap, eligible):
    """What the positive scores cannot carry (under the cap, or at all) goes uniformly per unit of
    `w` to the eligible cities with a zero score, each again at most `cap`."""
    short = jnp.maximum(total - jnp.sum(w * phi), 0.0)
    zero = eligible & (s <= 0)
    extra = jnp.minimum(safe_div(short, jnp.sum(jnp.where(zero, w, 0.0))), cap)
    return phi + jnp.where(zero, extra, 0.0)


def _field(baseline: Any, *names: str, default=None):
    for n in names:
        if hasattr(baseline, n):
            return getattr(baseline, n)
    if default is not None:
        return default
    raise InputError(f"baseline has none of the fields {names} needed by the allocation rule")


def covariates(baseline: Any, options: RuleOptions | None = None) -> tuple[jax.Array, jax.Array]:
    """Covariates of the Table 4 rule (section 4(4)): (R^k/L, A, V) per city, for k = Y and H.

    Returns two (N, 3) arrays, normalised as `options.normalise` says (baseline 2017 values).
    """
    options = RuleOptions() if options is None else options
    L = jnp.asarray(_field(baseline, "L"))
    A = jnp.asarray(_field(baseline, "A"))
    V = jnp.asarray(_field(baseline, "V"))
    out = []
    for R in (_field(baseline, "RY"), _field(baseline, "RH")):
        X = jnp.stack([jnp.asarray(R) / L, A, V], axis=1)
        if options.normalise == "mean":
            X = X / jnp.mean(X, axis=0, keepdims=True)
        elif options.normalise == "zscore":
            X = (X - jnp.mean(X, axis=0, keepdims=True)) / jnp.std(X, axis=0, keepdims=True)
        out.append(X)
    return out[0], out[1]


def _one_type(w_sell, w_buy, X, R, tau, opts: RuleOptions):
    """Sell/buy shares and areas of one land type in the national pool, eq. (18)-(19) with the rule of section 4(4)."""
    seller = tau < 0
    buyer = tau > 0
    ts = R if opts.ts == "stock" else jnp.where(seller, -tau * R, 0.0)
    ts = jnp.where(seller, ts, 0.0)
    s_sell = jnp.where(seller, jax.nn.relu(X @ w_sell), 0.0)
    s_buy = jnp.where(buyer, jax.nn.relu(X @ w_buy), 0.0)
    target = opts.volume_share * jnp.sum(ts)
    if opts.sell_cap_mode == "redistribute":
        phi_sell = capped_shares(
            s_sell,
            jnp.where(seller, ts, 1.0),
            target,
            opts.sell_cap,
            eligible=seller if opts.shortfall == "uniform" else None,
        )
        phi_sell = jnp.where(seller, phi_sell, 0.0)
    else:
        phi_sell = jnp.minimum(opts.sell_cap, opts.volume_share * s_sell * safe_div(jnp.sum(ts), jnp.sum(s_sell * ts)))
    phi_buy = jnp.where(
        buyer,
        capped_shares(
            s_buy,
            jnp.ones_like(s_buy),
            jnp.ones(()),
            opts.buy_cap,
            eligible=buyer if opts.shortfall == "uniform" else None,
        ),
        0.0,
    )
    absorbed = jnp.sum(phi_buy)  # < 1 only when a buyer cap cannot be met: the pool shrinks accordingly
    sold = phi_sell * ts * absorbed
    volume = jnp.sum(sold)
    bought = phi_buy * safe_div(volume, absorbed)
    return phi_sell * absorbed, phi_buy, sold, bought, volume, target


def allocate(omega: jax.Array, baseline: Any, options: RuleOptions | None = None) -> Allocation:
    """The Table 4 allocation (section 4(4), eqs. (18)-(20)) for weights `omega` (12,).

    `omega[0:3]` productive sell, `[3:6]` productive buy, `[6:9]` residential sell,
    `[9:12]` residential buy; within each block the covariates are (R^k/L, A, V).
    """
    options = RuleOptions() if options is None else options
    omega = jnp.asarray(omega, dtype=jnp.float64)
    if omega.shape != (12,):
        raise InputError(f"allocate: omega must have shape (12,), got {omega.shape}")
    XY, XH = covariates(baseline, options)
    RY, RH = jnp.asarray(baseline.RY), jnp.asarray(baseline.RH)
    tY, tH = jnp.asarray(baseline.tauY), jnp.asarray(baseline.tauH)
    psY, pbY, sY, bY, vY, TY = _one_type(omega[0:3], omega[3:6], XY, RY, tY, options)
    psH, pbH, sH, bH, vH, TH = _one_type(omega[6:9], omega[9:12], XH, RH, tH, options)
    F = money(baseline, sY + sH, bY + bH, options)
    return Allocation(psY, pbY, psH, pbH, sY, bY, sH, bH, F, vY, vH, TY, TH)


def money(baseline: Any, sold: jax.Array, bought: jax.Array, options: RuleOptions | None = None) -> jax.Array:
    """Net quota revenue F_d = r_sell sold_d - r_buy,d bought_d, eq. (20) (yuan), in the national pool
    (`options.prices="balanced"`: buyer prices scaled so that sum F = 0)."""
    options = RuleOptions() if options is None else options
    r_sell = jnp.asarray(_field(baseline, "sell_price", "r_sell", default=525.0), dtype=jnp.float64)
    r_buy = jnp.asarray(_field(baseline, "buy_price", "r_buy"), dtype=jnp.float64)
    pool = jnp.zeros(sold.shape, dtype=jnp.int32)
    return quota_money(sold, bought, pool, r_buy, r_sell, options.prices)


def uniform_allocation(baseline: Any, rule: str = "area", options: RuleOptions | None = None) -> Allocation:
    """Reference rules of Tables 2-3 in the national pool: every seller sells `volume_share` of
    its TS; buyers get equal areas (`rule="area"`) or equal percentage increases (`"proportion"`)."""
    options = RuleOptions() if options is None else options
    if rule not in ("area", "proportion"):
        raise InputError(f"uniform_allocation: rule={rule!r}; allowed: area, proportion")
    parts = []
    for R, tau in (
        (jnp.asarray(baseline.RY), jnp.asarray(baseline.tauY)),
        (jnp.asarray(baseline.RH), jnp.asarray(baseline.tauH)),
    ):
        seller, buyer = tau < 0, tau > 0
        ts = jnp.where(seller, R if options.ts == "stock" else -tau * R, 0.0)
        phi_sell = jnp.where(seller, options.volume_share, 0.0)
        sold = phi_sell * ts
        weight = jnp.where(buyer, 1.0 if rule == "area" else R, 0.0)
        phi_buy = safe_div(weight, jnp.sum(weight))
        volume = jnp.where(jnp.sum(phi_buy) > 0, jnp.sum(sold), 0.0)
        parts.append((phi_sell, phi_buy, sold, phi_buy * volume, volume, options.volume_share * jnp.sum(ts)))
    (psY, pbY, sY, bY, vY, TY), (psH, pbH, sH, bH, vH, TH) = parts
    F = money(baseline, sY + sH, bY + bH, options)
    return Allocation(psY, pbY, psH, pbH, sY, bY, sH, bH, F, vY, vH, TY, TH)


def to_shock(allocation: Allocation, baseline: Any, model: Any = None) -> Shock:
    """The quota-trade model's `Shock` for an allocation: R-hats from eqs. (18)-(19), f = F/G
    (eq. (17)). `model` is accepted for old callers and ignored."""
    return shock_from_trades(
        baseline,
        sold_Y=allocation.sold_Y,
        bought_Y=allocation.bought_Y,
        sold_H=allocation.sold_H,
        bought_H=allocation.bought_H,
        F=allocation.F,
    )
