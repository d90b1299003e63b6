"""The policy of the quota-trade model: a scenario (or an explicit list of trades) -> a Shock, eqs. (18)-(20).

A `Scenario` names a policy; `compile_scenario` turns it into the model's
`Shock` (R-hats, f = F/G, c-hat), differentiably in the transfer
share and in the baseline arrays (sellers and buyers are classified by the sign of tau, a
piecewise-constant choice). The options (fields of
`Options` with the same names):

| option | values (default first) | paper |
|---|---|---|
| `land` | `both` (separate pools per type), `productive`, `residential` | eq. (18) |
| `market` | `inter_all`, `inter_pilot`, `intra_all`, `intra_pilot` | Tables 2-3 |
| `allocation` | `area` (equal areas), `proportion` (equal % increase) within a pool | eqs. (18)-(19) |
| `share` | 0.15 (share of TS each seller sells; 0.20 in robustness) | eq. (18) |
| `ts` | `stock` (TS = R^k), `surplus` (TS = -tau R^k) | eq. (18) |
| `prices` | `given` (525; 450/750/1050), `balanced` (buyer prices scaled so sum F = 0 per pool) | eq. (20) |
| `pilot_pool` | `nationwide` (P5 sellers -> buyers in all provinces), `pilot_only` | Table 3 |
| `migration_cut` | `none`, `intra_pilot`, `inter_pilot`, `all` (c' = `cost_factor` c) | eq. (9) |

Sellers are cities with tau^k < 0 and buyers cities with tau^k > 0 inside the scenario's scope; a
pool trades only if it has at least one seller and one buyer (a single-city municipality cannot
trade within its province). Parameter changes and the eq. (21) tenure adjustment act
on the baseline: `build_baseline(data, Params(alpha=0.83))`, `build_baseline(data, tenure=True)`.
Explicit trade lists (the Table 1 kind) go through `trades_to_shock`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError
from landjax.models.quota_trade.baseline import Shock
from landjax.models.quota_trade.equations import safe_div

LANDS = ("both", "productive", "residential")
MARKETS = ("inter_all", "inter_pilot", "intra_all", "intra_pilot")
ALLOCATIONS = ("area", "proportion")
TS_DEFS = ("stock", "surplus")
PRICES = ("given", "balanced")
PILOT_POOLS = ("nationwide", "pilot_only")
MIGRATION_CUTS = ("none", "intra_pilot", "inter_pilot", "all")


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A quota-trade policy (see the module table for options and defaults).

    `trade=False` means no quota trade (the `none` scenario; a migration cut may still apply).
    """

    land: str = "both"
    market: str = "inter_all"
    allocation: str = "area"
    share: float = 0.15
    ts: str = "stock"
    prices: str = "given"
    pilot_pool: str = "nationwide"
    migration_cut: str = "none"
    cost_factor: float = 0.9
    trade: bool = True

    def __post_init__(self):
        for name, allowed in (
            ("land", LANDS),
            ("market", MARKETS),
            ("allocation", ALLOCATIONS),
            ("ts", TS_DEFS),
            ("prices", PRICES),
            ("pilot_pool", PILOT_POOLS),
            ("migration_cut", MIGRATION_CUTS),
        ):
            if getattr(self, name) not in allowed:
                raise InputError(f"Scenario.{name}={getattr(self, name)!r}; allowed: {', '.join(allowed)}")
        for name in ("share", "cost_factor"):
            v = getattr(self, name)
            if isinstance(v, jax.core.Tracer):
                continue
            if isinstance(v, (bool, str)) or not isinstance(v, (int, float, np.integer, np.floating, jax.Array)):
                raise InputError(f"Scenario.{name}={v!r}: expected a number")
        if not isinstance(self.share, jax.core.Tracer) and not (0.0 <= float(self.share) < 1.0):
            raise InputError(
                f"Scenario.share={self.share} must lie in [0, 1): share of the tradable stock sold, eq. (18)"
            )
        if not (math.isfinite(float(self.cost_factor)) and 0.0 < float(self.cost_factor)):
            raise InputError(f"Scenario.cost_factor={self.cost_factor} must be a finite positive number")
        if not isinstance(self.trade, (bool, np.bool_)):
            raise InputError(f"Scenario.trade={self.trade!r}: expected true or false")

    @property
    def name(self) -> str:
        if not self.trade:
            return "none"
        return f"{self.market.split('_')[0]}_{self.market.split('_')[1]}_{self.allocation}_{self.land}"

    def describe(self) -> dict:
        return {"name": self.name, **dataclasses.asdict(self)}

    @classmethod
    def from_name(cls, name: str, **options: Any) -> Scenario:
        """`none` or `{intra|inter}_{pilot|all}_{area|proportion}_{productive|residential|both}`,
        with option overrides given as strings or values (`share=0.2`, `prices=balanced`, ...)."""
        conv = {"share": float, "cost_factor": float}
        known = {f.name for f in dataclasses.fields(cls)} - {"land", "market", "allocation", "trade"}
        kw = {}
        for k, v in options.items():
            if k not in known:
                raise InputError(f"unknown scenario option {k!r}; known: {', '.join(sorted(known))}")
            if k in conv and isinstance(v, str):
                try:
                    v = conv[k](v)
                except ValueError:
                    raise InputError(f"scenario option {k}={v!r}: not a number") from None
            kw[k] = v
        if name == "none":
            return cls(trade=False, **kw)
        parts = name.split("_")
        if (
            len(parts) != 4
            or parts[0] not in ("intra", "inter")
            or parts[1] not in ("pilot", "all")
            or parts[2] not in ALLOCATIONS
            or parts[3] not in LANDS
        ):
            raise InputError(
                f"scenario {name!r}: expected 'none' or {{intra|inter}}_{{pilot|all}}_{{area|proportion}}_"
                "{productive|residential|both}, e.g. inter_all_area_both"
            )
        return cls(land=parts[3], market=f"{parts[0]}_{parts[1]}", allocation=parts[2], **kw)


SCENARIO_OPTIONS = ("share", "ts", "prices", "pilot_pool", "migration_cut", "cost_factor")


def scenario_of(name: str, options: Any) -> Scenario:
    """The `Scenario` named `name` with the scenario fields of a model `Options`."""
    return Scenario.from_name(name, **{k: getattr(options, k) for k in SCENARIO_OPTIONS})


def table_scenarios() -> list[Scenario]:
    """The 24 scenarios of Tables 2 (intra-province) and 3 (inter-province)."""
    out = []
    for market in ("intra_pilot", "intra_all", "inter_pilot", "inter_all"):
        for allocation in ALLOCATIONS:
            for land in ("productive", "residential", "both"):
                out.append(Scenario(land=land, market=market, allocation=allocation))
    return out


def _seg(x, ids, n):
    return jax.ops.segment_sum(x, ids, num_segments=n)


def land_trades(R, tau, pool, sell_scope, buy_scope, share, *, allocation: str = "area", ts: str = "stock"):
    """Areas sold and bought for one land type, eqs. (18)-(19).

    `pool` (int, < N) assigns each city to a pool; `sell_scope`/`buy_scope` (bool) say who may
    sell/buy. Sellers (tau < 0) sell `share * TS`; each pool's total goes to its buyers (tau > 0)
    in equal areas or in proportion to their land. Returns `(sold, bought)` in m2.
    """
    n = R.shape[0]
    seller = (tau < 0) & sell_scope
    buyer = (tau > 0) & buy_scope
    has_b = _seg(buyer.astype(R.dtype), pool, n) > 0
    has_s = _seg(seller.astype(R.dtype), pool, n) > 0
    act_s = seller & has_b[pool]
    act_b = buyer & has_s[pool]
    TS = R if ts == "stock" else -tau * R
    sold = jnp.where(act_s, share * TS, 0.0)
    total = _seg(sold, pool, n)
    weight = jnp.where(act_b, 1.0 if allocation == "area" else R, 0.0)
    bought = total[pool] * safe_div(weight, _seg(weight, pool, n)[pool])
    return sold, bought


def quota_money(sold, bought, pool, buy_price, sell_price, prices: str = "given"):
    """Net quota revenue F_d = r_sell sold_d - r_buy,d bought_d, eq. (20) (yuan). The one place
    eq. (20) is written: the scenarios and the allocation rules both call it.

    `prices="balanced"` scales buyer prices within each pool so that the pool's F sums to zero."""
    n = sold.shape[0]
    r_buy = buy_price
    if prices == "balanced":
        scale = safe_div(sell_price * _seg(sold, pool, n), _seg(buy_price * bought, pool, n))
        r_buy = buy_price * scale[pool]
    return sell_price * sold - r_buy * bought


def migration_cost_change(baseline: Any, which: str, factor: float = 0.9) -> jax.Array | None:
    """c-hat (N, N) for a migration-cost cut, eq. (9): c' = factor * c on the affected pairs o != d.

    `intra_pilot`: pairs in the same pilot province; `inter_pilot`: pairs in different provinces
    with at least one end in a pilot province; `all`: every o != d; `none`: None."""
    if which == "none":
        return None
    prov, pilot = baseline.province, baseline.pilot
    n = prov.shape[0]
    off = ~jnp.eye(n, dtype=bool)
    same = prov[:, None] == prov[None, :]
    if which == "intra_pilot":
        aff = off & same & pilot[:, None]
    elif which == "inter_pilot":
        aff = off & ~same & (pilot[:, None] | pilot[None, :])
    elif which == "all":
        aff = off
    else:
        raise InputError(f"migration_cut={which!r}; allowed: {', '.join(MIGRATION_CUTS)}")
    return jnp.where(aff, factor, 1.0)


def compile_scenario(baseline: Any, scenario: Scenario, params: Any = None, *, share: Any = None) -> Any:
    """The model Shock of a scenario: R-hats from eqs. (18)-(19), f = F/G with F
    from eq. (20), c-hat from the migration-cost option.

    `share` overrides `scenario.share` and may be a traced JAX scalar (derivatives of the
    statistics with respect to the transfer share). `params` is accepted for symmetry (the
    classification uses the baseline's tau, which already reflects the parameters).
    """
    s = jnp.asarray(scenario.share if share is None else share, dtype=jnp.float64)
    b = baseline
    n = b.L0.shape[0]
    one = jnp.ones(n)
    c_hat = migration_cost_change(b, scenario.migration_cut, scenario.cost_factor)
    if not scenario.trade:
        return Shock(RY_hat=one, RH_hat=one, f=jnp.zeros(n), c_hat=c_hat)
    everyone = jnp.ones(n, dtype=bool)
    if scenario.market == "intra_pilot":
        pool, sell_scope, buy_scope = b.province, b.pilot, b.pilot
    elif scenario.market == "intra_all":
        pool, sell_scope, buy_scope = b.province, everyone, everyone
    elif scenario.market == "inter_pilot":
        pool = jnp.zeros(n, dtype=jnp.int32)
        sell_scope = b.pilot
        buy_scope = everyone if scenario.pilot_pool == "nationwide" else b.pilot
    else:
        pool, sell_scope, buy_scope = jnp.zeros(n, dtype=jnp.int32), everyone, everyone
    zero = jnp.zeros(n)
    traded = {"Y": (zero, zero), "H": (zero, zero)}
    F = zero
    for key, kind, R, tau in (("Y", "productive", b.RY, b.tauY), ("H", "residential", b.RH, b.tauH)):
        if scenario.land not in (kind, "both"):
            continue
        sold, bought = land_trades(
            R, tau, pool, sell_scope, buy_scope, s, allocation=scenario.allocation, ts=scenario.ts
        )
        F = F + quota_money(sold, bought, pool, b.buy_price, b.sell_price, scenario.prices)
        traded[key] = (sold, bought)
    return shock_from_trades(
        b,
        sold_Y=traded["Y"][0],
        bought_Y=traded["Y"][1],
        sold_H=traded["H"][0],
        bought_H=traded["H"][1],
        F=F,
        c_hat=c_hat,
    )


def shock_from_trades(
    baseline: Any,
    *,
    sold_Y: Any,
    bought_Y: Any,
    sold_H: Any,
    bought_H: Any,
    F: Any,
    c_hat: Any = None,
) -> Shock:
    """The one allocation-to-shock step (scenarios, explicit trades and the Table 4 rule): land
    after / before R^k-hat = 1 + (bought - sold) / R^k (eqs. (18)-(19)) and f = F / G (eq. (17))."""
    b = baseline
    return Shock(
        RY_hat=1.0 + (jnp.asarray(bought_Y) - jnp.asarray(sold_Y)) / jnp.asarray(b.RY),
        RH_hat=1.0 + (jnp.asarray(bought_H) - jnp.asarray(sold_H)) / jnp.asarray(b.RH),
        f=jnp.asarray(F) / jnp.asarray(b.G),
        c_hat=c_hat,
    )


def trades_to_shock(
    baseline: Any, trades: Any, city_ids: Sequence[str], *, land: str = "productive", sell_price: float | None = None
) -> Any:
    """Shock of an explicit list of trades (the Table 1 kind: seller, buyer, area, price).

    `trades`: DataFrame with columns `seller`, `buyer` (city ids), `area` (m2) and optional
    `price` (yuan/m2, paid by the buyer; default its `buy_price`; the seller receives
    `sell_price`, default the dataset's 525, unless `seller_price` is a column). `land`:
    `productive`, `residential` or `half` (each trade split 50/50, Table 1 column 3).
    """
    if land not in ("productive", "residential", "half"):
        raise InputError(f"trades_to_shock: land={land!r}; allowed: productive, residential, half")
    for col in ("seller", "buyer", "area"):
        if col not in trades.columns:
            raise InputError(f"trades: missing column {col!r} (need seller, buyer, area[, price])")
    idx = {str(c): i for i, c in enumerate(city_ids)}
    n = len(idx)
    sold = np.zeros(n)
    bought = np.zeros(n)
    F = np.zeros(n)
    r_sell = float(baseline.sell_price) if sell_price is None else float(sell_price)
    for row, t in enumerate(trades.itertuples(index=False)):
        for col in ("seller", "buyer"):
            if str(getattr(t, col)) not in idx:
                raise InputError(f"trades: row {row + 1}, column {col!r}: unknown city {getattr(t, col)!r}")
        a = float(t.area)
        if not (np.isfinite(a) and a >= 0):
            raise InputError(f"trades: row {row + 1}, column 'area': must be a non-negative number, got {t.area!r}")
        i, j = idx[str(t.seller)], idx[str(t.buyer)]
        pb = float(getattr(t, "price", np.nan)) if "price" in trades.columns else np.nan
        pb = float(baseline.buy_price[j]) if not np.isfinite(pb) else pb
        ps = float(t.seller_price) if "seller_price" in trades.columns else r_sell
        sold[i] += a
        bought[j] += a
        F[i] += ps * a
        F[j] -= pb * a
    wY = {"productive": 1.0, "residential": 0.0, "half": 0.5}[land]
    return shock_from_trades(
        baseline,
        sold_Y=wY * sold,
        bought_Y=wY * bought,
        sold_H=(1.0 - wY) * sold,
        bought_H=(1.0 - wY) * bought,
        F=F,
    )
