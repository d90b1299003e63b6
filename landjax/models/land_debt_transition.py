"""Deprecated alias of `landjax.models.land_debt.transition` (kept for one release)."""

from __future__ import annotations

import warnings

from landjax.models.land_debt.transition import *  # noqa: F403
from landjax.models.land_debt.transition import __all__  # noqa: F401

warnings.warn(
    "landjax.models.land_debt_transition is deprecated; use landjax.models.land_debt.transition",
    DeprecationWarning,
    stacklevel=2,
)
