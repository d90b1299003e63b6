"""landjax: a differentiable equilibrium engine for construction-land quota models.

Importing landjax switches JAX to float64 (`jax_enable_x64`) for the whole process:
every model here is calibrated to moments and solved to tolerances near 1e-12, which
float32 cannot reach. Arrays of another floating dtype handed to landjax entry points are
converted to float64 with a `landjax.errors.DtypeWarning` (see `as_float64`).

The engine (`landjax.engine`) knows nothing about any model; models live in
`landjax.models`, allocation rules in `landjax.allocation` and the per-paper
reproductions in `landjax.reproduce`.

With `LANDJAX_CACHE_DIR` set in the environment, importing landjax also turns on JAX's
persistent compilation cache in that folder (the command line always uses one; see
`landjax._cache.enable_compilation_cache`), so programs compiled by one process are loaded,
not compiled again, by the next.
"""

from __future__ import annotations

import os

import jax

jax.config.update("jax_enable_x64", True)

from landjax._cache import enable_compilation_cache  # noqa: E402
from landjax._version import __version__  # noqa: E402
from landjax.errors import ConvergenceError, DtypeWarning, InputError, NoEquilibriumError, as_float64  # noqa: E402

__all__ = [
    "__version__",
    "enable_compilation_cache",
    "ConvergenceError",
    "DtypeWarning",
    "InputError",
    "NoEquilibriumError",
    "as_float64",
]

if os.environ.get("LANDJAX_CACHE_DIR"):  # set explicitly: this process shares the cache too
    enable_compilation_cache()
