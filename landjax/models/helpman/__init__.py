"""The Helpman (1998) economy of Redding & Rossi-Hansberg (2017, "Quantitative spatial economics",
section 4): 900 cells on a 30 x 30 grid, two countries, labour mobile within a country, under the
model contract (`landjax.contract`). See `docs/helpman.md`.

```python
from landjax.models import helpman as hm
base = hm.solve()                                     # the paper's baseline
ext = hm.solve(hm.rrh_params(border_cost=1.0))        # external liberalisation
ext.outcomes["welfare_gain"]                          # {"West": ..., "East": ...} percent
```
"""

from __future__ import annotations

from typing import Any

from landjax.models.helpman.equations import hat_map
from landjax.models.helpman.equations import residual as _residual
from landjax.models.helpman.options import Options, Solver
from landjax.models.helpman.outcomes import country_welfare, statistics, welfare_gain_hat, welfare_gain_levels
from landjax.models.helpman.params import Params, rrh_params
from landjax.models.helpman.solve import MODEL, args_of, cells, equilibrium, initial_guess, solve, solve_batch, sweep


def residual(unknowns: dict[str, Any], params: Params, options: Options) -> dict[str, Any]:
    """The equilibrium conditions at `unknowns = {"log_w", "log_L"}`: `map(x) - x` (zero exactly
    at an equilibrium; see `landjax.models.helpman.equations`)."""
    return _residual(unknowns, args_of(params, options))


def outcomes(unknowns: dict[str, Any], params: Params, options: Options) -> dict[str, Any]:
    """Welfare by country and the summary statistics at `unknowns` (same coordinates as `residual`)."""
    args = args_of(params, options)
    V = country_welfare(unknowns, args)
    return {"welfare": {"West": V[0], "East": V[1]}, "statistics": statistics(unknowns, args)}


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
    "rrh_params",
    "hat_map",
    "equilibrium",
    "initial_guess",
    "cells",
    "args_of",
    "welfare_gain_hat",
    "welfare_gain_levels",
]
