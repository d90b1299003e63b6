"""Deprecated location of the quota-trade scenario compiler (kept for one release).

The policy of the quota-trade model now lives in `landjax.models.quota_trade.policy` (eqs.
(18)-(20): scenarios and explicit trades -> Shock); this module re-exports it.
"""

from __future__ import annotations

from landjax.models.quota_trade.policy import (
    ALLOCATIONS,
    LANDS,
    MARKETS,
    MIGRATION_CUTS,
    PILOT_POOLS,
    PRICES,
    SCENARIO_OPTIONS,
    TS_DEFS,
    Scenario,
    compile_scenario,
    land_trades,
    migration_cost_change,
    quota_money,
    scenario_of,
    table_scenarios,
    trades_to_shock,
)

__all__ = [
    "ALLOCATIONS",
    "LANDS",
    "MARKETS",
    "MIGRATION_CUTS",
    "PILOT_POOLS",
    "PRICES",
    "SCENARIO_OPTIONS",
    "TS_DEFS",
    "Scenario",
    "compile_scenario",
    "land_trades",
    "migration_cost_change",
    "quota_money",
    "scenario_of",
    "table_scenarios",
    "trades_to_shock",
]
