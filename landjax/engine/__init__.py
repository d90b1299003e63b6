"""The generic engine: root finding and fixed points with implicit differentiation, batches,
calibration, policy optimisation and gradient checks. It knows nothing about any model.

Public API:

```text
solve, fixed_point, Solution          # landjax.engine.solve
solve_batch                           # landjax.engine.batch
calibrate, CalibrationResult          # landjax.engine.calibrate
optimize, OptimizeResult              # landjax.engine.optimize
gradcheck, GradcheckResult            # landjax.engine.gradcheck
Dense, BlockTridiagonal               # landjax.engine.linalg (linear solvers)
```
"""

from landjax.engine._solution import MESSAGES, Solution
from landjax.engine.batch import solve_batch
from landjax.engine.calibrate import CalibrationResult, calibrate
from landjax.engine.gradcheck import GradcheckResult, gradcheck
from landjax.engine.linalg import BlockTridiagonal, Dense
from landjax.engine.optimize import OptimizeResult, optimize
from landjax.engine.solve import FIXED_POINT_METHODS, ROOT_METHODS, fixed_point, solve

__all__ = [
    "MESSAGES",
    "Solution",
    "BlockTridiagonal",
    "Dense",
    "ROOT_METHODS",
    "FIXED_POINT_METHODS",
    "solve",
    "fixed_point",
    "solve_batch",
    "calibrate",
    "CalibrationResult",
    "optimize",
    "OptimizeResult",
    "gradcheck",
    "GradcheckResult",
]
