"""All thirteen rules by name: exact functions, smooth versions, and `rule_function`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax.numpy as jnp

from landjax.errors import InputError
from landjax.models.claims.extended import SEVEN
from landjax.models.claims.names import RULE_NAMES, canonical_rule
from landjax.models.claims.rules import SIX, SMOOTH_WF_RULES, smooth_six

#: name -> exact rule ``f(c, E, side=1) -> x`` for one problem
EXACT: dict[str, Callable] = {**SIX, **SEVEN}
#: rules with a smooth version (``temperature``): the water-filling rules, and AA (smooth already)
SMOOTH_RULES: tuple[str, ...] = (*SMOOTH_WF_RULES, "AA")


def smooth_rule(rule: str) -> Callable:
    """The smooth version of a rule: `f(c, E, tau) -> (x, converged)` for one problem.

    Available for `SMOOTH_RULES`; AA is smooth already (`C^(n-3)`) and is returned
    unchanged. APRO, RA, MO and DT have none (they are piecewise smooth or linear and are
    differentiated exactly, one piece at a kink): `InputError`.
    """
    name = canonical_rule(rule)
    if name == "AA":
        aa = SEVEN["AA"]

        def f(c, E, tau):
            return aa(c, E), jnp.asarray(True)

        f.__name__ = "smooth_AA"
        f.__doc__ = "The average-of-awards rule (smooth already)."
        return f
    if name not in SMOOTH_WF_RULES:
        raise InputError(
            f"temperature: the {name} rule ({RULE_NAMES[name]}) has no smooth version; smooth versions "
            f"exist for {', '.join(SMOOTH_RULES)} (use the exact rule, differentiable away from kinks)"
        )
    return smooth_six(name)


def rule_function(rule: str, *, temperature: float | None = None, side: int = 1) -> Callable:
    """A pure-JAX function `f(c, E) -> x` for one problem (jit/vmap/grad-able; DT: forward mode).

    `temperature=None` gives the exact rule with the one-sided derivatives chosen by `side`;
    a positive temperature gives the smooth rule (convergence flags dropped: use
    `smooth_rule` to keep them).
    """
    name = canonical_rule(rule)
    if side not in (1, -1):
        raise InputError(f"side: must be +1 or -1, got {side!r}")
    if temperature is None:
        return partial(EXACT[name], side=side)
    if not (float(temperature) > 0):
        raise InputError(f"temperature: must be > 0 (or None for the exact rule), got {temperature!r}")
    sf = smooth_rule(name)
    tau = float(temperature)
    return lambda c, E: sf(c, E, tau)[0]
