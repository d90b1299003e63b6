"""Deprecated location (kept for one release) of the Table 4 allocation rule and its study.

The rule is `landjax.models.quota_trade.rules` (part of the model's policy); the Table 4
searches, frontier and sensitivities are study code in `landjax.reproduce.ma_ni_search`.
This module re-exports both.
"""

from __future__ import annotations

from landjax.models.quota_trade.outcomes import STATISTICS
from landjax.models.quota_trade.rules import (
    OMEGA_LABELS,
    Allocation,
    RuleOptions,
    allocate,
    capped_shares,
    covariates,
    money,
    safe_div,
    to_shock,
    uniform_allocation,
)
from landjax.reproduce.ma_ni_search import (
    OBJECTIVES,
    PAPER_ROBUSTNESS,
    PAPER_TABLE4,
    SENSITIVITY_PARAMS,
    RandomSearchResult,
    Table4Problem,
    WeightedPolisher,
    draw_omegas,
    gradient_search,
    nondominated,
    normalise_omega,
    parameter_sensitivities,
    pareto_frontier,
    projected_gradient,
    random_search,
    robustness_comparison,
    table4_problem,
)

__all__ = [
    "STATISTICS",
    "Allocation",
    "OMEGA_LABELS",
    "RuleOptions",
    "allocate",
    "capped_shares",
    "covariates",
    "money",
    "safe_div",
    "to_shock",
    "uniform_allocation",
    "OBJECTIVES",
    "PAPER_ROBUSTNESS",
    "PAPER_TABLE4",
    "RandomSearchResult",
    "SENSITIVITY_PARAMS",
    "Table4Problem",
    "WeightedPolisher",
    "draw_omegas",
    "gradient_search",
    "nondominated",
    "normalise_omega",
    "parameter_sensitivities",
    "pareto_frontier",
    "projected_gradient",
    "random_search",
    "robustness_comparison",
    "table4_problem",
]
