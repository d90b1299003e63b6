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
from landjax.engine.linalg import BlockTridiagonal, Dense
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
]

try:  # the remaining verbs are added module by module
    from landjax.engine.batch import solve_batch  # noqa: F401

    __all__.append("solve_batch")
except ImportError:  # pragma: no cover
    pass
try:
    from landjax.engine.calibrate import CalibrationResult, calibrate  # noqa: F401

    __all__ += ["calibrate", "CalibrationResult"]
except ImportError:  # pragma: no cover
    pass
try:
    from landjax.engine.optimize import OptimizeResult, optimize  # noqa: F401

    __all__ += ["optimize", "OptimizeResult"]
except ImportError:  # pragma: no cover
    pass
try:
    from landjax.engine.gradcheck import GradcheckResult, gradcheck  # noqa: F401

    __all__ += ["gradcheck", "GradcheckResult"]
except ImportError:  # pragma: no cover
    pass
