"""Claims-problem (bankruptcy) rules for splitting a quota: exact, batched, differentiable, smooth.

Zuo, Hu & Li (2019) split a county's new construction-land quota (the *estate* ``E``) among its
districts, whose demands are the *claims* ``c`` (``c_i >= 0``, ``0 <= E <= C = sum c``), with six
rules, eqs. (1)-(6) of the paper:

====  =====================================================  =========
name  rule                                                   paper eq.
====  =====================================================  =========
P     proportional, ``x = (E/C) c``                          (1)
CEA   constrained equal awards, ``min(c_i, lambda)``         (2)
CEL   constrained equal losses, ``max(0, c_i - lambda)``     (3)
CE    constrained egalitarian (Chun, Schummer & Thomson)     (4)
Pin   Piniles                                                (5)
T     Talmud (Aumann & Maschler)                             (6)
====  =====================================================  =========

**One primitive.** Every rule is built on the exact water-filling :func:`water_fill`:
``WF(lo, hi, E) = clip(lambda, lo, hi)`` with the scalar ``lambda`` chosen so that the awards sum
to ``E``. ``lambda`` is found exactly (no iteration, no tolerance) among the ``2n``
breakpoints ``{lo_i, hi_i}``: the piecewise-linear sum is evaluated at each (densely for
``n <= 64``, by sorting and cumulative sums above) and the segment holding ``E`` located; on that segment the claimants split into those at their lower bound, at
their upper bound, and *free* ones, and ``lambda`` is recomputed in closed form on that split:
``lambda = (E - sum_lower lo - sum_upper hi) / #free``. With ``h = c/2`` and ``H = C/2``:

* CEA = ``WF(0, c, E)``; CEL = ``c - WF(0, c, C - E)`` (duality);
* CE  = ``WF(0, h, E)`` if ``E <= H`` else ``WF(h, c, E)`` (``max(c/2, min(c, lambda))``);
* Pin = ``WF(0, h, E)`` if ``E <= H`` else ``h + WF(0, h, E - H)``;
* T   = ``WF(0, h, E)`` if ``E <= H`` else ``c - WF(0, h, C - E)``

(one water-filling per rule: the branch's bounds and estate are selected before the call).

**Derivatives.** The rules are piecewise linear in ``(c, E)``. The set split above is held fixed
(``stop_gradient``) and the closed form is differentiated, so ``jax.grad``/``jax.jacfwd`` return the
derivative of one linear piece. Which piece at a kink is chosen by ``side``: ``side=+1`` (default)
gives the piece that holds for a *slightly larger estate* (the right derivative in ``E``; a
claimant exactly at its cap counts as capped, one exactly at its floor counts as free, and at
``E = C/2`` CE, Pin and T use their upper branch); ``side=-1`` the piece for a slightly smaller
estate. Where no such piece exists (``E = C`` with ``side=+1``, ``E = 0`` with ``side=-1``) the
other side is used. Away from kinks both sides agree with finite differences.

**Smooth versions** (``temperature=tau > 0``, in the units of the claims): ``clip`` becomes the
soft clip ``lo + tau [softplus((lam - lo)/tau) - softplus((lam - hi)/tau)]``, which stays inside
``[lo, hi]`` and differs from ``clip`` by at most ``tau log 2``; ``lambda`` is found by Newton's
method with implicit differentiation (:func:`landjax.engine.solve`, started at the exact
``lambda``), so the awards still sum to ``E`` (to ~1e-12 relative). The switch at ``E = C/2`` of
CE, Pin and T is smoothed too: ``E2 = tau [softplus((E - H)/tau) - softplus(-H/tau)]`` and
``E1 = E - E2`` (both stay in ``[0, H]``), and T = ``WF(0,h,E1) + h - WF(0,h,H-E2)``, Pin =
``WF(0,h,E1) + WF(0,h,E2)``, CE = ``WF(0,h,E1) + WF(h,c,H+E2) - h``. As ``tau -> 0`` every smooth
rule converges to the exact one (error ``O(n tau)``).

**Batches.** The rule functions act on one problem (1-D ``c``, scalar ``E``); ``jax.vmap`` them, or
call :func:`allocate_batch` for many problems with the same number of claimants (chunked).

User-facing API (NumPy/pandas in and out, validated): :func:`allocate`, :func:`allocate_batch`,
:func:`allocate_all`, :func:`allocate_frame`, and the CLI :func:`cli_main`
(``landjax claims --claims FILE.csv [--estate E] --rule RULE|all --out OUT.csv``).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax.errors import ConvergenceError, InputError

#: canonical rule names, in the paper's order (Table 5)
RULES: tuple[str, ...] = ("P", "CEA", "CEL", "CE", "Pin", "T")
#: long names (for reports)
RULE_NAMES: dict[str, str] = {
    "P": "proportional",
    "CEA": "constrained equal awards",
    "CEL": "constrained equal losses",
    "CE": "constrained egalitarian (Chun-Schummer-Thomson)",
    "Pin": "Piniles",
    "T": "Talmud",
}
_ALIASES: dict[str, str] = {
    "p": "P",
    "prop": "P",
    "proportional": "P",
    "cea": "CEA",
    "constrained_equal_awards": "CEA",
    "cel": "CEL",
    "constrained_equal_losses": "CEL",
    "ce": "CE",
    "constrained_egalitarian": "CE",
    "pin": "Pin",
    "piniles": "Pin",
    "t": "T",
    "talmud": "T",
}
#: below this many claimants the breakpoint sums are evaluated densely (O(n^2)); above, by sorting
_DENSE_MAX_N = 64


def canonical_rule(rule: str) -> str:
    """Return the canonical name (``P, CEA, CEL, CE, Pin, T``) of a rule, case-insensitively.

    Accepts the long names too (``proportional``, ``talmud``, ``piniles``, ...). Raises
    :class:`InputError` listing the valid names otherwise.
    """
    key = str(rule).strip().lower().replace("-", "_").replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    valid = ", ".join(RULES)
    raise InputError(
        f"rule: unknown rule {rule!r}; valid rules: {valid} (or 'all'; long names such as "
        f"'talmud', 'piniles', 'proportional' also work)"
    )


def _rule_list(rule: str | Sequence[str]) -> list[str]:
    if isinstance(rule, str):
        if rule.strip().lower() == "all":
            return list(RULES)
        return [canonical_rule(rule)]
    out = [canonical_rule(r) for r in rule]
    if not out:
        raise InputError("rule: empty list of rules")
    return out


# ----------------------------------------------------------------------------------------------
# The exact water-filling primitive
# ----------------------------------------------------------------------------------------------


def _breakpoint_sums(lo: jax.Array, hi: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Sorted breakpoints ``b`` (2n) and ``S(b_k) = sum_i clip(b_k, lo_i, hi_i)``."""
    b = jnp.sort(jnp.concatenate([lo, hi]))
    n = lo.shape[0]
    if n <= _DENSE_MAX_N:
        s = jnp.sum(jnp.clip(b[:, None], lo[None, :], hi[None, :]), axis=1)
    else:
        # clip(t, lo, hi) = max(t, lo) - max(t, hi) + hi, and sum_i max(t, a_i) = t #{a_i < t} + sum_{a_i >= t} a_i
        def sum_max(a):
            a = jnp.sort(a)
            pref = jnp.concatenate([jnp.zeros(1, a.dtype), jnp.cumsum(a)])
            cnt = jnp.searchsorted(a, b, side="left")
            return b * cnt + (pref[-1] - pref[cnt])

        s = sum_max(lo) - sum_max(hi) + jnp.sum(hi)
        s = jax.lax.cummax(s)  # the exact sum is nondecreasing; remove rounding wiggles
    return b, s


def _segment(lo: jax.Array, hi: jax.Array, E: jax.Array, side: int):
    """Locate the breakpoint segment ``(b_{k-1}, b_k)`` of ``lambda`` (no gradient).

    ``side=+1``: the segment just above ``lambda`` (first ``k`` with ``S(b_k) > E``); ``side=-1``:
    just below (first ``k`` with ``S(b_k) >= E``). Falls back to the other side where none exists.
    For small ``n`` the sort is skipped: ``S`` is nondecreasing, so the segment is
    ``(max{b : S(b) <= E}, min{b : S(b) > E})`` over the unsorted breakpoints (dense, O(n^2)).
    """
    lo, hi, E = jax.lax.stop_gradient((lo, hi, E))
    n = lo.shape[0]
    if n <= _DENSE_MAX_N:
        b = jnp.concatenate([lo, hi])
        s = jnp.sum(jnp.clip(b[:, None], lo[None, :], hi[None, :]), axis=1)
        inf = jnp.asarray(jnp.inf, b.dtype)
        has_right = jnp.any(s > E)  # side +1 possible
        has_left = jnp.any(s < E)  # side -1 possible
        use_right = jnp.where(jnp.asarray(side) > 0, has_right | ~has_left, ~has_left)
        le = jnp.where(use_right, s <= E, s < E)  # breakpoints at or below lambda's segment
        below = jnp.max(jnp.where(le, b, -inf))
        above = jnp.min(jnp.where(le, inf, b))
        # degenerate problems (every lo = hi): any finite pair works, the sets then fix every claimant
        below = jnp.where(jnp.isfinite(below), below, jnp.min(b))
        above = jnp.where(jnp.isfinite(above), above, jnp.max(b))
        return below, above
    b, s = _breakpoint_sums(lo, hi)
    m = b.shape[0]
    k_right = jnp.sum(s <= E)  # first index with s > E (m if none)
    k_left = jnp.sum(s < E)  # first index with s >= E (0 if E <= sum lo)
    k = jnp.where(
        jnp.asarray(side) > 0, jnp.where(k_right < m, k_right, k_left), jnp.where(k_left >= 1, k_left, k_right)
    )
    k = jnp.clip(k, 1, m - 1)
    return b[k - 1], b[k]


def water_fill(lo: Any, hi: Any, E: Any, side: int = 1, return_level: bool = False):
    """Exact water-filling ``x_i = clip(lambda, lo_i, hi_i)`` with ``sum x = E``; the primitive of eqs. (2)-(6).

    **Arguments:**

    - `lo`, `hi`: 1-D bounds with ``lo <= hi``.
    - `E`: scalar with ``sum lo <= E <= sum hi`` (outside, the result is finite but meaningless).
    - `side`: ``+1`` or ``-1`` (may be a traced integer): which one-sided derivative to return at
      a kink (see module docstring).
    - `return_level`: also return ``lambda``.

    **Returns:** ``x`` (and ``lambda``). Differentiable in ``lo``, ``hi`` and ``E``.
    """
    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi)
    E = jnp.asarray(E)
    below, above = _segment(lo, hi, E, side)
    at_hi = hi <= below
    at_lo = (lo >= above) & ~at_hi
    free = ~at_hi & ~at_lo
    n_free = jnp.sum(free)
    fixed = jnp.sum(jnp.where(at_hi, hi, 0.0)) + jnp.sum(jnp.where(at_lo, lo, 0.0))
    lam = (E - fixed) / jnp.maximum(n_free, 1)
    # value clipped into the bounds (rounding can overshoot by an ulp); the gradient is that of lam
    lam_i = lam + jax.lax.stop_gradient(jnp.clip(lam, lo, hi) - lam)
    x = jnp.where(at_hi, hi, jnp.where(at_lo, lo, lam_i))
    if return_level:
        return x, lam
    return x


# ----------------------------------------------------------------------------------------------
# The six exact rules (one problem: c 1-D, E scalar)
# ----------------------------------------------------------------------------------------------


def _lower_branch(E, C, side):
    """``E <= C/2`` of eqs. (4)-(6); at ``E = C/2`` the branch whose derivative ``side`` asks for."""
    return E < C / 2 if side > 0 else E <= C / 2


def proportional(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Proportional rule ``x = lambda c`` with ``lambda = E/C``, eq. (1)."""
    c = jnp.asarray(c)
    C = jnp.sum(c)
    pos = C > 0
    return jnp.where(pos, c * (E / jnp.where(pos, C, 1.0)), 0.0)


def cea(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained equal awards ``x_i = min(c_i, lambda)``, eq. (2)."""
    c = jnp.asarray(c)
    return water_fill(jnp.zeros_like(c), c, E, side)


def cel(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained equal losses ``x_i = max(0, c_i - lambda)``, eq. (3): CEA applied to the losses."""
    c = jnp.asarray(c)
    return c - water_fill(jnp.zeros_like(c), c, jnp.sum(c) - E, -side)


# CE, Pin and T call the water-filling once, with the branch's bounds and estate selected first
# (the same values as evaluating both branches of eqs. (4)-(6) and selecting, at half the work).


def ce(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained egalitarian rule (Chun, Schummer & Thomson 2001), eq. (4).

    ``min(c_i/2, lambda)`` if ``E <= C/2``, else ``max(c_i/2, min(c_i, lambda))`` (= ``WF(c/2, c, E)``).
    """
    c = jnp.asarray(c)
    h = c / 2
    low = _lower_branch(E, jnp.sum(c), side)
    return water_fill(jnp.where(low, 0.0, h), jnp.where(low, h, c), E, side)


def piniles(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Piniles' rule, eq. (5): CEA on half-claims, twice.

    ``min(c_i/2, lambda)`` if ``E <= C/2``, else ``c_i/2 + min(c_i/2, lambda)``.
    """
    c = jnp.asarray(c)
    C = jnp.sum(c)
    h = c / 2
    low = _lower_branch(E, C, side)
    w = water_fill(jnp.zeros_like(c), h, jnp.where(low, E, E - C / 2), side)
    return jnp.where(low, w, h + w)


def talmud(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Talmud rule (Aumann & Maschler 1985), eq. (6): CEA on half-claims, then CEL on the other halves.

    ``min(c_i/2, lambda)`` if ``E <= C/2``, else ``c_i - min(c_i/2, lambda)``.
    """
    c = jnp.asarray(c)
    C = jnp.sum(c)
    h = c / 2
    low = _lower_branch(E, C, side)
    w = water_fill(jnp.zeros_like(c), h, jnp.where(low, E, C - E), jnp.where(low, side, -side))
    return jnp.where(low, w, c - w)


_EXACT: dict[str, Callable] = {"P": proportional, "CEA": cea, "CEL": cel, "CE": ce, "Pin": piniles, "T": talmud}


# ----------------------------------------------------------------------------------------------
# Smooth versions
# ----------------------------------------------------------------------------------------------


def soft_clip(lam: Any, lo: Any, hi: Any, tau: Any) -> jax.Array:
    """Soft ``clip(lam, lo, hi)``: ``lo + tau [softplus((lam-lo)/tau) - softplus((lam-hi)/tau)]``.

    Stays in ``[lo, hi]``, strictly increasing in ``lam`` where ``lo < hi``, and within
    ``tau log 2`` of the exact clip.
    """
    x = lo + tau * (jax.nn.softplus((lam - lo) / tau) - jax.nn.softplus((lam - hi) / tau))
    # rounding can leave x an ulp outside [lo, hi]: clip the value, keep the derivative
    return x + jax.lax.stop_gradient(jnp.clip(x, lo, hi) - x)


def _soft_wf_residual(lam, a):
    lo, hi, E, tau, scale = a
    return (jnp.sum(soft_clip(lam, lo, hi, tau)) - E) / scale


#: Newton settings of the smooth water-filling (residual is relative to sum(hi - lo))
SMOOTH_FTOL = 1e-11
SMOOTH_MAX_STEPS = 200


def smooth_water_fill(lo: Any, hi: Any, E: Any, tau: Any, *, throw: bool = False, return_solution: bool = False):
    """Smooth water-filling: ``x_i = soft_clip(lambda, lo_i, hi_i, tau)`` with ``sum x = E``.

    ``lambda`` solves ``sum_i soft_clip(lambda, lo_i, hi_i, tau) = E`` by Newton's method with
    backtracking (:func:`landjax.engine.solve`, native backend, implicit differentiation), started
    at the exact level of :func:`water_fill`. At the ends (``E <= sum lo`` or ``E >= sum hi``) the
    limit ``lo`` or ``hi`` is returned. With ``return_solution`` the engine's ``Solution`` (converged
    flag, residual norm, steps) comes back too.
    """
    from landjax.engine import solve

    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi)
    E = jnp.asarray(E)
    tau = jnp.asarray(tau)
    s_lo, s_hi = jnp.sum(lo), jnp.sum(hi)
    interior = (E > s_lo) & (E < s_hi)
    # outside the interior the root does not exist: solve a harmless stand-in and mask it away
    lo_s = jnp.where(interior, lo, 0.0)
    hi_s = jnp.where(interior, hi, 1.0)
    E_s = jnp.where(interior, E, 0.5 * lo.shape[0])
    scale = jnp.maximum(jnp.sum(hi_s - lo_s), 1e-300)
    _, lam0 = water_fill(lo_s, hi_s, E_s, return_level=True)
    lam0 = jax.lax.stop_gradient(lam0)
    sol = solve(
        _soft_wf_residual,
        lam0,
        (lo_s, hi_s, E_s, tau, scale),
        method="newton",
        backend="native",
        line_search=True,
        tol=1e-14,
        ftol=SMOOTH_FTOL,
        max_steps=SMOOTH_MAX_STEPS,
        throw=throw,
    )
    x = soft_clip(sol.value, lo, hi, tau)
    x = jnp.where(E <= s_lo, lo, jnp.where(E >= s_hi, hi, x))
    if return_solution:
        return x, sol
    return x


def _soft_split(E, C, tau):
    """``(E1, E2)`` with ``E1 + E2 = E``: smooth ``min(E, C/2)`` and ``max(0, E - C/2)``, both in ``[0, C/2]``."""
    H = C / 2
    E2 = tau * (jax.nn.softplus((E - H) / tau) - jax.nn.softplus(-H / tau))
    E2 = jnp.clip(E2, 0.0, H)
    return E - E2, E2


def smooth_rule(rule: str) -> Callable:
    """The smooth version of a rule: ``f(c, E, tau) -> (x, converged)`` for one problem.

    ``converged`` is the conjunction of the Newton solves' flags. P is returned unchanged (it is
    smooth already).
    """
    name = canonical_rule(rule)

    def swf(lo, hi, E, tau):
        x, sol = smooth_water_fill(lo, hi, E, tau, return_solution=True)
        return x, sol.converged

    def f(c, E, tau):
        c = jnp.asarray(c)
        E = jnp.asarray(E)
        z = jnp.zeros_like(c)
        C = jnp.sum(c)
        if name == "P":
            return proportional(c, E), jnp.asarray(True)
        if name == "CEA":
            return swf(z, c, E, tau)
        if name == "CEL":
            x, ok = swf(z, c, C - E, tau)
            return c - x, ok
        h = c / 2
        E1, E2 = _soft_split(E, C, tau)
        x1, ok1 = swf(z, h, E1, tau)
        if name == "T":
            x2, ok2 = swf(z, h, C / 2 - E2, tau)
            return x1 + h - x2, ok1 & ok2
        if name == "Pin":
            x2, ok2 = swf(z, h, E2, tau)
            return x1 + x2, ok1 & ok2
        # CE
        x2, ok2 = swf(h, c, C / 2 + E2, tau)
        return x1 + x2 - h, ok1 & ok2

    f.__name__ = f"smooth_{name}"
    f.__doc__ = f"Smooth {RULE_NAMES[name]} rule (see claims module docstring)."
    return f


def rule_function(rule: str, *, temperature: float | None = None, side: int = 1) -> Callable:
    """A pure-JAX function ``f(c, E) -> x`` for one problem (jit/vmap/grad-able).

    ``temperature=None`` gives the exact rule with the one-sided derivatives chosen by ``side``;
    a positive temperature gives the smooth rule (convergence flags dropped: use
    :func:`smooth_rule` to keep them).
    """
    name = canonical_rule(rule)
    if side not in (1, -1):
        raise InputError(f"side: must be +1 or -1, got {side!r}")
    if temperature is None:
        return partial(_EXACT[name], side=side)
    if not (float(temperature) > 0):
        raise InputError(f"temperature: must be > 0 (or None for the exact rule), got {temperature!r}")
    sf = smooth_rule(name)
    tau = float(temperature)
    return lambda c, E: sf(c, E, tau)[0]


# ----------------------------------------------------------------------------------------------
# Validation and the NumPy/pandas API
# ----------------------------------------------------------------------------------------------


def _where(problem: Any) -> str:
    if problem is None:
        return ""
    if hasattr(problem, "item"):  # numpy scalar -> python
        problem = problem.item()
    return f" in problem {problem!r}" if isinstance(problem, str) else f" in problem {problem}"


def validate_problem(
    claims: Any, estate: Any, *, problem: Any = None, names: Sequence[Any] | None = None, rtol: float = 1e-12
) -> tuple[np.ndarray, float]:
    """Check one claims problem and return ``(c, E)`` as float64.

    Raises :class:`InputError` naming the problem (and the claimant) for: an empty problem, a
    non-numeric, NaN/inf or negative claim, a NaN/negative estate, an estate above the total of
    the claims (beyond a relative rounding slack ``rtol``, in which case ``E`` is set to ``C``).
    """
    try:
        c = np.asarray(claims, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"claims{_where(problem)}: not numeric ({exc})") from exc
    if c.size == 0:
        raise InputError(f"claims{_where(problem)}: empty problem (no claimants)")
    label = (lambda i: f"{names[i]!r} (position {i})") if names is not None else (lambda i: f"at position {i}")
    bad = np.flatnonzero(~np.isfinite(c))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"claims{_where(problem)}: claim of {label(i)} is {c[i]} (NaN or inf)")
    neg = np.flatnonzero(c < 0)
    if neg.size:
        i = int(neg[0])
        raise InputError(f"claims{_where(problem)}: claim of {label(i)} is negative ({c[i]})")
    try:
        E = float(estate)
    except (TypeError, ValueError) as exc:
        raise InputError(f"estate{_where(problem)}: not a number ({estate!r})") from exc
    if not math.isfinite(E):
        raise InputError(f"estate{_where(problem)}: is {E} (must be a finite number)")
    if E < 0:
        raise InputError(f"estate{_where(problem)}: is negative ({E})")
    C = float(c.sum())
    if E > C:
        if E <= C * (1 + rtol):
            E = C
        else:
            raise InputError(
                f"estate{_where(problem)}: {E} exceeds the total of the claims {C} "
                f"(a claims problem needs 0 <= estate <= sum of claims)"
            )
    return c, E


@partial(jax.jit, static_argnames=("rule", "side"))
def _batched_exact(c, E, rule, side):
    return jax.vmap(partial(_EXACT[rule], side=side))(c, E)


@partial(jax.jit, static_argnames=("rule",))
def _batched_smooth(c, E, tau, rule):
    f = smooth_rule(rule)
    return jax.vmap(f, in_axes=(0, 0, None))(c, E, tau)


def allocate_batch(
    claims: Any,
    estates: Any,
    rule: str = "T",
    *,
    temperature: float | None = None,
    side: int = 1,
    chunk_size: int = 65536,
    validate: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Apply a rule to a batch of problems with the same number of claimants.

    **Arguments:**

    - `claims`: ``(B, n)`` array; `estates`: ``(B,)``.
    - `rule`: one of :data:`RULES` (or a long name).
    - `temperature`: ``None`` for the exact rule, ``tau > 0`` for the smooth one.
    - `chunk_size`: problems per compiled call (``jax.vmap`` inside; the last chunk is padded).
    - `validate`: check every problem (vectorised); the error names the first bad problem (row).

    **Returns:** ``(B, n)`` float64 awards. Raises :class:`ConvergenceError` if a smooth solve failed.
    """
    name = canonical_rule(rule)
    if temperature is not None and not (math.isfinite(float(temperature)) and float(temperature) > 0):
        raise InputError(f"temperature: must be a finite number > 0 (or None for the exact rule), got {temperature!r}")
    if side not in (1, -1):
        raise InputError(f"side: must be +1 or -1, got {side!r}")
    c = np.asarray(claims, dtype=np.float64)
    E = np.asarray(estates, dtype=np.float64).reshape(-1)
    if c.ndim != 2:
        raise InputError(f"claims: a batch needs a (B, n) array, got shape {c.shape}")
    if c.shape[0] != E.shape[0]:
        raise InputError(f"estates: {E.shape[0]} estates for {c.shape[0]} problems")
    if c.shape[1] == 0:
        raise InputError("claims: empty problems (n = 0 claimants)")
    if validate:
        C = c.sum(axis=1)
        bad = ~np.isfinite(c).all(axis=1) | (c < 0).any(axis=1) | ~np.isfinite(E) | (E < 0) | (E > C * (1 + 1e-12))
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            validate_problem(c[b], E[b], problem=b)  # raises with the precise reason
        E = np.minimum(E, C)
    B = c.shape[0]
    out = np.empty_like(c)
    chunk = max(1, min(int(chunk_size), B))
    from landjax._io import progress as _progress

    starts = range(0, B, chunk)
    it = _progress(starts, total=len(starts), desc=f"claims {name}") if progress else starts
    failed = 0
    for s in it:
        cc, ee = c[s : s + chunk], E[s : s + chunk]
        m = cc.shape[0]
        if m < chunk:  # pad to the compiled shape
            cc = np.concatenate([cc, np.ones((chunk - m, c.shape[1]))])
            ee = np.concatenate([ee, np.zeros(chunk - m)])
        if temperature is None:
            x = _batched_exact(jnp.asarray(cc), jnp.asarray(ee), name, int(side))
        else:
            x, ok = _batched_smooth(jnp.asarray(cc), jnp.asarray(ee), float(temperature), name)
            failed += int(np.sum(~np.asarray(ok)[:m]))
        out[s : s + m] = np.asarray(x)[:m]
    if failed:
        raise ConvergenceError(
            f"smooth {name} rule: the Newton solve for lambda failed in {failed} of {B} problems "
            f"(temperature {temperature}); try a larger temperature"
        )
    return out


def allocate(
    claims: Any, estate: Any, rule: str = "T", *, temperature: float | None = None, side: int = 1, problem: Any = None
) -> np.ndarray | pd.Series:
    """Split ``estate`` among ``claims`` with one rule.

    **Arguments:**

    - `claims`: 1-D array-like, or a pandas Series (the result is then a Series with its index).
    - `estate`: the amount to divide, ``0 <= estate <= sum(claims)``.
    - `rule`: ``P, CEA, CEL, CE, Pin, T`` (or ``proportional, talmud, piniles, ...``).
    - `temperature`: ``None`` (exact) or ``tau > 0`` (smooth version).
    - `side`: one-sided derivative choice (irrelevant for values).
    - `problem`: a label used in error messages.

    **Returns:** the awards (float64), summing to ``estate``.
    """
    name = canonical_rule(rule)
    names = list(claims.index) if isinstance(claims, pd.Series) else None
    c, E = validate_problem(claims, estate, problem=problem, names=names)
    x = allocate_batch(c[None, :], np.array([E]), name, temperature=temperature, side=side, validate=False)[0]
    if isinstance(claims, pd.Series):
        return pd.Series(x, index=claims.index, name=name)
    return x


def allocate_all(
    claims: Any, estate: Any, rules: str | Sequence[str] = "all", *, temperature: float | None = None
) -> pd.DataFrame:
    """All (or the chosen) rules for one problem: a DataFrame with one column per rule.

    The index is the Series index of ``claims`` if it has one, else ``0..n-1``.
    """
    names = list(claims.index) if isinstance(claims, pd.Series) else None
    c, E = validate_problem(claims, estate, names=names)
    cols = {r: allocate(c, E, r, temperature=temperature) for r in _rule_list(rules)}
    return pd.DataFrame(cols, index=claims.index if isinstance(claims, pd.Series) else None)


OUTPUT_COLUMNS: tuple[str, ...] = ("problem", "name", "claim", "estate", "rule", "award")


def allocate_frame(
    df: pd.DataFrame,
    rule: str | Sequence[str] = "all",
    *,
    estate: float | None = None,
    temperature: float | None = None,
    source: str = "frame",
) -> pd.DataFrame:
    """Apply rules to every problem of a long table.

    **Arguments:**

    - `df`: columns ``name`` and ``claim``; optionally ``problem`` (several problems in one table)
      and ``estate`` (each problem's estate, constant within the problem).
    - `rule`: a rule name, a list of them, or ``"all"``.
    - `estate`: the estate of a single-problem table without an ``estate`` column.
    - `source`: how errors name the table (a file name for the CLI); rows are reported as
      data rows counted from 1 (the line of a CSV file is that plus one).

    **Returns:** a DataFrame with columns ``problem, name, claim, estate, rule, award``: for each rule
    (in the order asked), every input row in input order.
    """
    rules = _rule_list(rule)
    missing = [c for c in ("name", "claim") if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; needs name, claim "
            f"[, problem, estate]; has {', '.join(map(str, df.columns))}"
        )
    if len(df) == 0:
        raise InputError(f"{source}: no rows (empty problem)")
    has_est = "estate" in df.columns
    if has_est and estate is not None:
        raise InputError(f"{source}: has an 'estate' column and an estate was also given (--estate); use one")
    if not has_est and estate is None:
        raise InputError(f"{source}: no estate: add an 'estate' column or give --estate")
    df = df.reset_index(drop=True)
    problems = df["problem"] if "problem" in df.columns else pd.Series([1] * len(df))
    if problems.isna().any():
        r = int(np.flatnonzero(problems.isna().to_numpy())[0]) + 1
        raise InputError(f"{source}: column problem is empty in data row {r}")
    if not has_est and problems.nunique() > 1:
        raise InputError(
            f"{source}: --estate is for a single-problem table, but it holds "
            f"{problems.nunique()} problems; add an 'estate' column instead"
        )
    claim_num = pd.to_numeric(df["claim"], errors="coerce")
    bad = claim_num.isna() & df["claim"].notna()
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{source}: claim in data row {r + 1} (name {df['name'].iloc[r]!r}) is not a number: "
            f"{df['claim'].iloc[r]!r}"
        )
    blocks = []
    award = {r: np.empty(len(df)) for r in rules}
    est_col = np.empty(len(df))
    by_size: dict[int, list] = {}
    for p, idx in df.groupby(problems, sort=False).indices.items():
        idx = np.sort(idx)
        p = p.item() if hasattr(p, "item") else p
        if has_est:
            e = pd.to_numeric(df["estate"].iloc[idx], errors="coerce").to_numpy()
            if np.isnan(e).all():
                raise InputError(f"{source}: problem {p!r} has no estate (data rows {idx[0] + 1}..{idx[-1] + 1})")
            e_ok = e[~np.isnan(e)]
            if not np.all(e_ok == e_ok[0]):
                raise InputError(
                    f"{source}: problem {p!r} has different estates in its rows "
                    f"({', '.join(map(str, sorted(set(e_ok.tolist()))))}); one estate per problem"
                )
            E = e_ok[0]
        else:
            E = estate
        names = df["name"].iloc[idx].tolist()
        c_p = claim_num.iloc[idx].to_numpy()
        for j, r in enumerate(idx):
            if np.isnan(c_p[j]):
                raise InputError(f"{source}: claim of {names[j]!r} in problem {p!r} (data row {r + 1}) is empty/NaN")
        c_p, E = validate_problem(c_p, E, problem=p, names=names)
        est_col[idx] = E
        by_size.setdefault(len(idx), []).append((idx, c_p, E))
    # problems of the same size run as one batch per rule (one compilation per size and rule)
    for group in by_size.values():
        cmat = np.stack([g[1] for g in group])
        evec = np.array([g[2] for g in group])
        for r in rules:
            x = allocate_batch(cmat, evec, r, temperature=temperature, validate=False, chunk_size=min(len(group), 8192))
            for (idx, _, _), xr in zip(group, x, strict=False):
                award[r][idx] = xr
    for r in rules:
        blocks.append(
            pd.DataFrame(
                {
                    "problem": problems.to_numpy(),
                    "name": df["name"].to_numpy(),
                    "claim": claim_num.to_numpy(),
                    "estate": est_col,
                    "rule": r,
                    "award": award[r],
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)[list(OUTPUT_COLUMNS)]


# ----------------------------------------------------------------------------------------------
# A plain NumPy reference (per problem, classic sorted-claims algorithm)
# ----------------------------------------------------------------------------------------------


def _np_cea(c: np.ndarray, E: float) -> np.ndarray:
    """CEA by walking the claims in increasing order (textbook algorithm; no water-filling primitive)."""
    order = np.argsort(c)
    rem = E
    n = len(c)
    lam = c[order[-1]] if n else 0.0
    for k, i in enumerate(order):
        share = rem / (n - k)
        if c[i] >= share:
            lam = share
            break
        rem -= c[i]
    return np.minimum(c, lam)


def reference_numpy(claims: Any, estate: float, rule: str) -> np.ndarray:
    """Plain NumPy implementation of eqs. (1)-(6) for one problem (benchmark baseline, test oracle).

    Built on CEA by sorted claims, independently of :func:`water_fill`: CEL by duality, and the
    half-claims rules from CEA on ``c/2`` (CE's upper branch as ``c - CEL``-type CEA on ``c/2`` losses).
    """
    name = canonical_rule(rule)
    c = np.asarray(claims, dtype=np.float64)
    E = float(estate)
    C = c.sum()
    h = c / 2
    if name == "P":
        return c * (E / C) if C > 0 else np.zeros_like(c)
    if name == "CEA":
        return _np_cea(c, E)
    if name == "CEL":
        return c - _np_cea(c, C - E)
    if E <= C / 2:
        return _np_cea(h, E)
    if name == "Pin":
        return h + _np_cea(h, E - C / 2)
    if name == "T":
        return c - _np_cea(h, C - E)
    # CE upper branch: max(h, min(c, lam)) = h + CEA of the top halves with a common level:
    # x_i - h_i = clip(lam, h_i, c_i) - h_i; solve by bisection-free search over sorted breakpoints
    bps = np.sort(np.concatenate([h, c]))
    tot = np.clip(bps[:, None], h[None, :], c[None, :]).sum(axis=1)
    k = int(np.searchsorted(tot, E, side="left"))
    k = min(max(k, 1), len(bps) - 1)
    b0, b1, s0, s1 = bps[k - 1], bps[k], tot[k - 1], tot[k]
    lam = b1 if s1 == s0 else b0 + (E - s0) * (b1 - b0) / (s1 - s0)
    return np.clip(lam, h, c)


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def cli_main(argv: Sequence[str] | None = None) -> int:
    """``landjax claims --claims FILE.csv [--estate E] --rule RULE|all --out OUT.csv [--temperature T]``.

    FILE has columns ``name, claim`` and optionally ``problem`` and ``estate`` (one estate per
    problem). OUT gets columns ``problem, name, claim, estate, rule, award``: for each rule, the
    input rows in input order. Errors are printed to stderr with exit status 2.
    """
    ap = argparse.ArgumentParser(
        prog="landjax claims",
        description="Split an estate among claimants with bankruptcy (claims-problem) rules "
        "(Zuo, Hu & Li 2019, eqs. 1-6).",
    )
    ap.add_argument("--claims", required=True, help="CSV with columns name, claim [, problem, estate]")
    ap.add_argument(
        "--estate", type=float, default=None, help="estate of a single-problem file without an estate column"
    )
    ap.add_argument("--rule", default="all", help=f"one of {', '.join(RULES)}, or 'all' (default)")
    ap.add_argument("--out", required=True, help="output CSV (problem, name, claim, estate, rule, award)")
    ap.add_argument("--temperature", type=float, default=None, help="use the smooth rules with this temperature")
    args = ap.parse_args(list(argv) if argv is not None else None)
    path = Path(args.claims)
    try:
        if not path.exists():
            raise InputError(f"--claims: file not found: {path}")
        try:
            df = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig")
        except Exception as exc:
            raise InputError(f"--claims: cannot read {path} as CSV ({exc})") from exc
        df.columns = [str(c).strip() for c in df.columns]
        out = allocate_frame(df, args.rule, estate=args.estate, temperature=args.temperature, source=str(path))
    except (InputError, ConvergenceError) as exc:
        print(f"landjax claims: error: {exc}", file=sys.stderr)
        return 2
    out_path = Path(args.out)
    if out_path.parent and not out_path.parent.exists():
        out_path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(out_path, index=False, float_format="%.10g")
    print(
        f"wrote {len(out)} rows ({out['problem'].nunique()} problem(s), {out['rule'].nunique()} rule(s)) to {out_path}",
        file=sys.stderr,
    )
    return 0


__all__ = [
    "RULES",
    "RULE_NAMES",
    "canonical_rule",
    "water_fill",
    "proportional",
    "cea",
    "cel",
    "ce",
    "piniles",
    "talmud",
    "soft_clip",
    "smooth_water_fill",
    "smooth_rule",
    "rule_function",
    "validate_problem",
    "allocate",
    "allocate_batch",
    "allocate_all",
    "allocate_frame",
    "reference_numpy",
    "cli_main",
    "OUTPUT_COLUMNS",
]
