"""Claims (bankruptcy) problems: splitting a quota (the *estate*) among districts whose demands (the
*claims*) exceed it. Thirteen rules, exact, batched (`jax.vmap`) and differentiable: the six of
Zuo, Hu & Li (2019), eqs. (1)-(6) (P, CEA, CEL, CE, Pin, T; `landjax.models.claims.rules`),
and the seven further rules of the reference library (APRO, RA, MO, RTalmud, DT, AV, AA;
`landjax.models.claims.extended`); the properties of the literature as checks
(`landjax.models.claims.axioms`), Lorenz ranking and Gini indices
(`landjax.models.claims.lorenz`), awards paths and schedules
(`landjax.models.claims.paths`), and the model contract (`Params`, `Options`, `solve`,
`MODEL`: `landjax solve claims`).

```python
from landjax.models import claims as cl
cl.allocate([100, 200, 300], 200, "RA")                 # one problem
cl.allocate_frame(df, "all")                            # a long table, the thirteen rules
cl.axioms_table(["T", "P"], problem=([100, 200, 300], 200))
cl.solve(cl.Params(claims=[100, 200, 300], estate=200), cl.Options(rule="AA")).outcomes
```
"""

from __future__ import annotations

from landjax.models.claims.api import (
    AA_CONDITION_MAX,
    OUTPUT_COLUMNS,
    allocate,
    allocate_all,
    allocate_batch,
    allocate_frame,
    scale_of,
    validate_problem,
)
from landjax.models.claims.axioms import (
    DISAGREEMENTS,
    KNOWN,
    KNOWN_PARTIAL,
    PROPERTIES,
    Check,
    axioms_table,
    check_rule,
    random_problems,
)
from landjax.models.claims.extended import (
    DT_MAX_STEPS,
    SUBSET_MAX_N,
    aa_condition,
    adjusted_proportional,
    average_cea_cel,
    average_of_awards,
    dominguez_thomson,
    minimal_overlap,
    random_arrival,
    reverse_talmud,
)
from landjax.models.claims.lorenz import gini, gini_table, lorenz_compare, lorenz_frame, lorenz_points, lorenz_table
from landjax.models.claims.model import MODEL, Options, Params, outcomes, residual, solve, solve_batch, sweep
from landjax.models.claims.names import ALL_RULES, EXTRA_RULES, RULE_NAMES, RULES, canonical_rule, rule_list
from landjax.models.claims.paths import awards_path, estate_grid, plot_lorenz, plot_paths, plot_schedules
from landjax.models.claims.reference import aa_exact, ra_shapley, reference_numpy
from landjax.models.claims.registry import EXACT, SMOOTH_RULES, rule_function, smooth_rule
from landjax.models.claims.rules import (
    ce,
    cea,
    cel,
    piniles,
    proportional,
    smooth_water_fill,
    soft_clip,
    talmud,
    water_fill,
)

Solver = None

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
    "RULES",
    "EXTRA_RULES",
    "ALL_RULES",
    "RULE_NAMES",
    "EXACT",
    "SMOOTH_RULES",
    "canonical_rule",
    "rule_list",
    "water_fill",
    "proportional",
    "cea",
    "cel",
    "ce",
    "piniles",
    "talmud",
    "adjusted_proportional",
    "random_arrival",
    "minimal_overlap",
    "reverse_talmud",
    "dominguez_thomson",
    "average_cea_cel",
    "average_of_awards",
    "aa_condition",
    "aa_exact",
    "ra_shapley",
    "SUBSET_MAX_N",
    "DT_MAX_STEPS",
    "AA_CONDITION_MAX",
    "soft_clip",
    "smooth_water_fill",
    "smooth_rule",
    "rule_function",
    "validate_problem",
    "scale_of",
    "allocate",
    "allocate_batch",
    "allocate_all",
    "allocate_frame",
    "reference_numpy",
    "OUTPUT_COLUMNS",
    "PROPERTIES",
    "KNOWN",
    "KNOWN_PARTIAL",
    "DISAGREEMENTS",
    "Check",
    "check_rule",
    "axioms_table",
    "random_problems",
    "gini",
    "gini_table",
    "lorenz_points",
    "lorenz_compare",
    "lorenz_table",
    "lorenz_frame",
    "awards_path",
    "estate_grid",
    "plot_paths",
    "plot_schedules",
    "plot_lorenz",
]
