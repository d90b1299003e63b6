"""The policy of the quota-trade model: a scenario (or an explicit list of trades) -> a Shock, eqs. (18)-(20).

A `Scenario` names a policy; `compile_scenario` turns it into the model's
`Shock` (R-hats, f = F/G, c-hat), differentiably in the transfer
share and in the baseline arrays (sellers and buyers are classified by the sign of tau, a
piecewise-constant choice). The policy is the scenario's `land`, `market` and `allocation`; the
settings below it are fields of the model's `Options` (`Scenario(..., options=Options(share=0.2))`,
or the `Options` given to `solve`):

| field | values (default first) | paper |
|---|---|---|
| `land` | `both` (separate pools per type), `productive`, `residential` | eq. (18) |
| `market` | `inter_all`, `inter_pilot`, `intra_all`, `intra_pilot` | Tables 2-3 |
| `allocation` | `area` (equal areas), `proportion` (equal % increase) within a pool | eqs. (18)-(19) |
| `Options.share` | 0.15 (share of TS each seller sells; 0.20 in robustness) | eq. (18) |
| `Options.ts` | `stock` (TS = R^k), `surplus` (TS = -tau R^k) | eq. (18) |
| `Options.prices` | `given` (525; 450/750/1050), `balanced` (buyer prices scaled so sum F = 0 per pool) | eq. (20) |
| `Options.pilot_pool` | `nationwide` (P5 sellers -> buyers in all provinces), `pilot_only` | Table 3 |
| `Options.migration_cut` | `none`, `intra_pilot`, `inter_pilot`, `all` (c' = `cost_factor` c) | eq. (9) |

Sellers are cities with tau^k < 0 and buyers cities with tau^k > 0 inside the scenario's scope; a
pool trades only if it has at least one seller and one buyer (a single-city municipality cannot
trade within its province). Parameter changes and the eq. (21) tenure adjustment act
on the baseline: `build_baseline(data, Params(alpha=0.83))`, `build_baseline(data, tenure=True)`.
Explicit trade lists (the Table 1 kind) go through `trades_to_shock`.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError
from landjax.models.quota_trade.baseline import Shock
from landjax.models.quota_trade.equations import safe_div
from landjax.models.quota_trade.options import Options

LANDS = ("both", "productive", "residential")
MARKETS = ("inter_all", "inter_pilot", "intra_all", "intra_pilot")
ALLOCATIONS = ("area", "proportion")
TS_DEFS = ("stock", "surplus")
PRICES = ("given", "balanced")
PILOT_POOLS = ("nationwide", "pilot_only")
MIGRATION_CUTS = ("none", "intra_pilot", "inter_pilot", "all")


SCENARIO_OPTIONS = ("share", "ts", "prices", "pilot_pool", "migration_cut", "cost_factor")


@dataclasses.dataclass(frozen=True, init=False)
class Scenario:
    """A quota-trade policy: who trades with whom (`market`), which land (`land`), how a pool's
    quota is shared among its buyers (`allocation`), or no trade at all (`trade=False`, the `none`
    scenario; a migration cut may still apply).

    The settings of eqs. (9), (18) and (20) (`share`, `ts`, `prices`, `pilot_pool`,
    `migration_cut`, `cost_factor`) are fields of the model's one `Options`, not of the scenario:
    `Scenario(..., options=Options(share=0.2))`, or leave `options` unset and the `Options` given
    to `solve` apply. `scenario.share` and the other five names are read-only views of those
    options. `Scenario(share=0.2)` (the old form) still works for one release with a
    `DeprecationWarning`.
    """

    land: str
    market: str
    allocation: str
    trade: bool
    #: the model `Options` whose scenario settings apply; `None`: the `Options` of the solve
    #: (defaults when the scenario is compiled on its own)
    options: Options | None

    def __init__(
        self,
        land: str = "both",
        market: str = "inter_all",
        allocation: str = "area",
        trade: bool = True,
        options: Options | None = None,
        **legacy: Any,
    ) -> None:
        if legacy:
            options = _with_settings(options, legacy)  # bad names and values: InputError first
            warnings.warn(
                f"Scenario({', '.join(f'{k}=...' for k in legacy)}) is deprecated: these are fields of the "
                "quota_trade Options; pass Scenario(..., options=Options(...)) or set them on the Options of solve",
                DeprecationWarning,
                stacklevel=2,
            )
        if options is not None and not isinstance(options, Options):
            raise InputError(f"Scenario.options={options!r}: expected a quota_trade Options")
        for name, value, allowed in (
            ("land", land, LANDS),
            ("market", market, MARKETS),
            ("allocation", allocation, ALLOCATIONS),
        ):
            if value not in allowed:
                raise InputError(f"Scenario.{name}={value!r}; allowed: {', '.join(allowed)}")
        if not isinstance(trade, (bool, np.bool_)):
            raise InputError(f"Scenario.trade={trade!r}: expected true or false")
        for name, value in (("land", land), ("market", market), ("allocation", allocation)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "trade", bool(trade))

    # read-only views of the scenario settings of the model Options
    @property
    def settings(self) -> Options:
        """The `Options` whose scenario settings apply (`Options()` when none were given)."""
        return self.options if self.options is not None else Options()

    @property
    def share(self) -> float:
        return self.settings.share

    @property
    def ts(self) -> str:
        return self.settings.ts

    @property
    def prices(self) -> str:
        return self.settings.prices

    @property
    def pilot_pool(self) -> str:
        return self.settings.pilot_pool

    @property
    def migration_cut(self) -> str:
        return self.settings.migration_cut

    @property
    def cost_factor(self) -> float:
        return self.settings.cost_factor

    def with_options(self, **settings: Any) -> Scenario:
        """The same policy with scenario settings changed (`share=0.2`, `prices="balanced"`, ...)."""
        return dataclasses.replace(self, options=_with_settings(self.options, settings))

    def bound_to(self, options: Options) -> Scenario:
        """The scenario as solved with the model `options`: its own settings where it has them
        (refusing a contradiction with a non-default setting of `options`), else those of `options`."""
        if self.options is None:
            return dataclasses.replace(self, options=options)
        mine, theirs, default = self.options, options, Options()
        for k in SCENARIO_OPTIONS:
            a, b = getattr(mine, k), getattr(theirs, k)
            if a != b and b != getattr(default, k):
                raise InputError(
                    f"the Scenario says {k}={a!r} and the Options say {k}={b!r}; set it in one place (Options)"
                )
        return self

    @property
    def name(self) -> str:
        if not self.trade:
            return "none"
        return f"{self.market.split('_')[0]}_{self.market.split('_')[1]}_{self.allocation}_{self.land}"

    def describe(self) -> dict:
        """Name, policy and scenario settings (the `scenario` entry of the JSON report)."""
        o = self.settings
        return {
            "name": self.name,
            "land": self.land,
            "market": self.market,
            "allocation": self.allocation,
            **{k: getattr(o, k) for k in SCENARIO_OPTIONS},
            "trade": self.trade,
        }

    @classmethod
    def from_name(cls, name: str, options: Options | None = None, **settings: Any) -> Scenario:
        """`none` or `{intra|inter}_{pilot|all}_{area|proportion}_{productive|residential|both}`.

        `options`: the model `Options` whose scenario settings apply (see the class). Keyword
        settings (`share=0.2`, `prices="balanced"`, as values or command-line text) are applied
        on top of them."""
        if settings:
            options = _with_settings(options, settings)
        if name == "none":
            return cls(trade=False, options=options)
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
        return cls(land=parts[3], market=f"{parts[0]}_{parts[1]}", allocation=parts[2], options=options)


def _with_settings(options: Options | None, settings: dict[str, Any]) -> Options:
    """`options` (default `Options()`) with scenario settings applied; text values parsed strictly."""
    unknown = sorted(set(settings) - set(SCENARIO_OPTIONS))
    if unknown:
        raise InputError(f"unknown scenario option {unknown[0]!r}; known: {', '.join(sorted(SCENARIO_OPTIONS))}")
    base = options if options is not None else Options()
    text = {k: v for k, v in settings.items() if isinstance(v, str)}
    values = {k: v for k, v in settings.items() if not isinstance(v, str)}
    if text:
        base = Options.from_strings(text, base)
    return base.replace(**values) if values else base


def scenario_of(name: str, options: Any) -> Scenario:
    """The `Scenario` named `name` with the scenario settings of a model `Options`."""
    return Scenario.from_name(name, options=options)


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


def compile_scenario(
    baseline: Any, scenario: Scenario, params: Any = None, *, share: Any = None, cost_factor: Any = None
) -> Any:
    """The model Shock of a scenario: R-hats from eqs. (18)-(19), f = F/G with F
    from eq. (20), c-hat from the migration-cost option.

    The settings (`share`, `ts`, `prices`, `pilot_pool`, `migration_cut`, `cost_factor`) are those
    of `scenario.options` (`Options()` when unset). `share` overrides `Options.share` and may be a
    traced JAX scalar (derivatives of the statistics with respect to the transfer share);
    `cost_factor` likewise overrides `Options.cost_factor`.
    `params` is accepted for symmetry (the classification uses the baseline's tau, which already
    reflects the parameters).
    """
    s = jnp.asarray(scenario.share if share is None else share, dtype=jnp.float64)
    b = baseline
    n = b.L0.shape[0]
    one = jnp.ones(n)
    factor = scenario.cost_factor if cost_factor is None else cost_factor
    c_hat = migration_cost_change(b, scenario.migration_cut, factor)
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


#: the numeric scenario settings, traced by `compile_scenario_program` (the others key the program)
_TRACED_SETTINGS = ("share", "cost_factor")


def compile_scenario_program(baseline: Any, scenario: Scenario) -> Any:
    """`compile_scenario` as one compiled program (what `solve` calls): a fresh process lowers one
    program, found in the persistent compilation cache, instead of some forty eager operations.

    The program is keyed on the scenario's words only (land, market, allocation, trade and the
    text settings of `SCENARIO_OPTIONS`); the numeric settings `share` and `cost_factor` enter as
    values, so a loop over shares compiles once. Same operations as `compile_scenario`, the same
    bits (`tests/test_quota_trade_inputs.py::test_compiled_scenario_equals_the_eager_one`)."""
    o = scenario.options if scenario.options is not None else Options()
    text = tuple((k, getattr(o, k)) for k in SCENARIO_OPTIONS if k not in _TRACED_SETTINGS)
    words = (scenario.land, scenario.market, scenario.allocation, bool(scenario.trade), text)
    share, cost_factor = (jnp.asarray(v, dtype=jnp.float64) for v in (o.share, o.cost_factor))
    return _scenario_program(baseline, share, cost_factor, words=words)


@functools.partial(jax.jit, static_argnames=("words",))
def _scenario_program(baseline: Any, share: Any, cost_factor: Any, *, words: tuple) -> Any:
    land, market, allocation, trade, text = words
    sc = Scenario(land=land, market=market, allocation=allocation, trade=trade, options=Options(**dict(text)))
    return compile_scenario(baseline, sc, share=share, cost_factor=cost_factor)


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
