"""The two-city model of land finance and local-government debt of Zhao & Liu (2024), under the
model contract (`landjax.contract`). See `docs/zhao_liu2024.md` (the model's equations are
numbered there; the paper's own equations are not public).

```python
from landjax.models import land_debt as ld
r = ld.solve()                                         # the printed calibration
r.outcomes["statistics"]["lev_gap"]
r = ld.solve(options=ld.Options(mobility="mobile"), calibrate=True)
pc, _ = ld.calibrate(ld.Params())                      # (A_1, xi, k_bar, omega) to the targets
y = ld.solve_steady_state(pc).value                    # the solver's flat vector
ld.statistics(y, pc, ld.Options())                     # every statistic, eq. (20)
```

Modules: `.params`, `.options`, `.equations`, `.outcomes`, `.steady`,
`.calibrate`, `.solve`, `.transition` (perfect-foresight paths). The paper's
experiments, claims and figures are study code in `landjax.reproduce.zhao_liu2024_study`.
"""

from __future__ import annotations

from landjax.models.land_debt.calibrate import (
    TARGETS,
    calibrate,
    calibrate_batch,
    calibrate_joint,
    calibrate_nested,
    calibration_guess,
    params_from_calibration,
)
from landjax.models.land_debt.calibrate import baseline as baseline
from landjax.models.land_debt.equations import (
    a_k,
    armington,
    fiscal_yield,
    gamma_tilde,
    indirect_utility,
    k_bar_eff,
    land_value_multiple,
    location_shares,
    n_unknowns,
    named,
    pack,
    rates,
    residual,
    ss_blocks,
    steady_state_residual,
    unpack,
)
from landjax.models.land_debt.options import Options, Solver
from landjax.models.land_debt.outcomes import KEY_STATS, accounts, outcomes, statistics, statistics_jit, welfare
from landjax.models.land_debt.params import PER_CITY, Params, unchecked_replace, validate
from landjax.models.land_debt.solve import MODEL, batch_statistics, guess_for, solve, solve_batch, stack_params, sweep
from landjax.models.land_debt.steady import initial_guess, solve_steady_state

__all__ = [
    "Params",
    "Options",
    "Solver",
    "residual",
    "outcomes",
    "solve",
    "solve_batch",
    "sweep",
    "calibrate",
    "MODEL",
    # the flat-vector API used by the transitions and the studies
    "steady_state_residual",
    "solve_steady_state",
    "initial_guess",
    "statistics",
    "statistics_jit",
    "accounts",
    "welfare",
    "calibrate_joint",
    "calibrate_nested",
    "calibrate_batch",
    "calibration_guess",
    "params_from_calibration",
    "baseline",
    "batch_statistics",
    "guess_for",
    "stack_params",
    "TARGETS",
    "KEY_STATS",
    "PER_CITY",
    "validate",
    "unchecked_replace",
    "a_k",
    "armington",
    "fiscal_yield",
    "gamma_tilde",
    "indirect_utility",
    "k_bar_eff",
    "land_value_multiple",
    "location_shares",
    "n_unknowns",
    "named",
    "pack",
    "rates",
    "ss_blocks",
    "unpack",
]
