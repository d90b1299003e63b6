"""N-city quota-trade spatial general equilibrium of Ma Caoyuan & Ni Xiufeng
(《建设用地指标跨区域交易的要素配置效应》, eqs. (1)-(21)), solved in exact hats, under the model
contract (`landjax.contract`). See `docs/ma_ni.md`.

```python
from landjax.models import quota_trade as M
r = M.solve(M.Params(), M.Options(), scenario="inter_all_area_both")   # a contract Result
r.outcomes["statistics"]["gdp_change"]                                 # percent

# the building blocks
base = M.build_baseline(None, M.Params())            # levels: L0, m, L, Y, W, tau, G, A, V, ...
shock = M.compile_scenario(base, M.Scenario.from_name("inter_all_area_both"))
eq = M.solve_shock(base, shock, M.Params())          # Equilibrium: hats + flags
M.statistics(base, shock, eq)                        # gdp_change, output_gap_change, welfare_change,
                                                     # welfare_gap_change (percent)
```

Modules: `.params` (Params, eq. (21)), `.options` (Options: the ambiguity register;
Solver), `.baseline` (levels, eqs. (1)-(17); Shock), `.equations` (the hat system),
`.policy` (scenarios and trades -> Shock, eqs. (18)-(20)), `.outcomes` (statistics and
diagnostics), `.solve` (solve, solve_batch, sweep, MODEL), `.sharding` (`shard_rows`: the
migration matrix split by rows over devices, for county-scale N).
"""

from __future__ import annotations

from typing import Any

import jax

from landjax.data.china import load_dataset
from landjax.models.quota_trade.baseline import REGION_CODES, Baseline, Shock, build_baseline, zero_shock
from landjax.models.quota_trade.equations import (
    Equilibrium,
    check_shock,
    equilibrium_at,
    hat_map,
    migration_shares,
    safe_div,
    tfp_root,
)
from landjax.models.quota_trade.equations import residual as residual_shock
from landjax.models.quota_trade.options import Options, Solver
from landjax.models.quota_trade.outcomes import (
    GAP_THRESHOLD,
    STATISTICS,
    city_table,
    diagnostics,
    no_change,
    statistics,
)
from landjax.models.quota_trade.params import TENURE_FACTOR, Params, tenure_factor
from landjax.models.quota_trade.policy import (
    Scenario,
    compile_scenario,
    land_trades,
    migration_cost_change,
    quota_money,
    scenario_of,
    table_scenarios,
    trades_to_shock,
)
from landjax.models.quota_trade.sharding import shard_rows
from landjax.models.quota_trade.solve import MODEL, economy, solve, solve_batch, solve_shock, sweep


def _shock_of(params: Params, options: Options, data: Any, scenario: Any) -> tuple[Params, Baseline, Shock]:
    sc = scenario.bound_to(options) if isinstance(scenario, Scenario) else scenario_of(str(scenario), options)
    return economy(params, options, load_dataset(data), sc)


def residual(
    unknowns: dict[str, jax.Array], params: Params, options: Options, *, data: Any = None, scenario: Any = "none"
) -> dict[str, jax.Array]:
    """The equilibrium conditions at `unknowns = {"log_L_hat"}`: eq. (10) with the migration shares
    of eq. (9), as `hat_map(x) - x` (zero exactly at an equilibrium)."""
    pc, base, shock = _shock_of(params, options, data, scenario)
    return {"log_L_hat": residual_shock(unknowns["log_L_hat"], base, shock, pc)}


def outcomes(
    unknowns: dict[str, jax.Array], params: Params, options: Options, *, data: Any = None, scenario: Any = "none"
) -> dict[str, Any]:
    """The statistics and diagnostics at `unknowns` (same coordinates as `residual`)."""
    pc, base, shock = _shock_of(params, options, data, scenario)
    eq = equilibrium_at(unknowns["log_L_hat"], base, shock, pc)
    o = options
    return {
        "feasible": eq.feasible,
        "statistics": statistics(base, shock, eq, o.gap, gdp=o.gdp, welfare=o.welfare, welfare_gap=o.welfare_gap),
        "diagnostics": diagnostics(base, shock, eq, gap=o.gap, welfare_gap=o.welfare_gap),
    }


__all__ = [
    "Params",
    "Options",
    "Solver",
    "residual",
    "outcomes",
    "solve",
    "solve_batch",
    "sweep",
    "MODEL",
    "Baseline",
    "Shock",
    "Equilibrium",
    "Scenario",
    "build_baseline",
    "zero_shock",
    "compile_scenario",
    "trades_to_shock",
    "table_scenarios",
    "land_trades",
    "quota_money",
    "migration_cost_change",
    "scenario_of",
    "economy",
    "solve_shock",
    "equilibrium_at",
    "check_shock",
    "residual_shock",
    "statistics",
    "diagnostics",
    "no_change",
    "city_table",
    "tfp_root",
    "shard_rows",
    "hat_map",
    "migration_shares",
    "safe_div",
    "STATISTICS",
    "GAP_THRESHOLD",
    "TENURE_FACTOR",
    "REGION_CODES",
    "tenure_factor",
]
