"""The six claims rules of Zuo, Hu & Li (2019): exact, batched, differentiable, smooth.

Zuo, Hu & Li (2019) split a county's new construction-land quota (the *estate* `E`) among its
districts, whose demands are the *claims* `c` (`c_i >= 0`, `0 <= E <= C = sum c`), with six
rules, eqs. (1)-(6) of the paper:

====  =====================================================  =========
name  rule                                                   paper eq.
====  =====================================================  =========
P     proportional, `x = (E/C) c`                          (1)
CEA   constrained equal awards, `min(c_i, lambda)`         (2)
CEL   constrained equal losses, `max(0, c_i - lambda)`     (3)
CE    constrained egalitarian (Chun, Schummer & Thomson)     (4)
Pin   Piniles                                                (5)
T     Talmud (Aumann & Maschler)                             (6)
====  =====================================================  =========

**One primitive.** Every rule is built on the exact water-filling `water_fill`:
`WF(lo, hi, E) = clip(lambda, lo, hi)` with the scalar `lambda` chosen so that the awards sum
to `E`. `lambda` is found exactly (no iteration, no tolerance) among the `2n`
breakpoints `{lo_i, hi_i}`: the piecewise-linear sum is evaluated at each (densely for
`n <= 64`, by sorting and cumulative sums above) and the segment holding `E` located; on
that segment the claimants split into those at their lower bound, at their upper bound, and
*free* ones, and `lambda` is recomputed in closed form on that split:
`lambda = (E - sum_lower lo - sum_upper hi) / #free`. With `h = c/2` and `H = C/2`:

* CEA = `WF(0, c, E)`; CEL = `c - WF(0, c, C - E)` (duality);
* CE  = `WF(0, h, E)` if `E <= H` else `WF(h, c, E)` (`max(c/2, min(c, lambda))`);
* Pin = `WF(0, h, E)` if `E <= H` else `h + WF(0, h, E - H)`;
* T   = `WF(0, h, E)` if `E <= H` else `c - WF(0, h, C - E)`

(one water-filling per rule: the branch's bounds and estate are selected before the call).

**Derivatives.** The rules are piecewise linear in `(c, E)`. The set split above is held fixed
(`stop_gradient`) and the closed form is differentiated, so `jax.grad`/`jax.jacfwd` return the
derivative of one linear piece. Which piece at a kink is chosen by `side`: `side=+1` (default)
gives the piece that holds for a *slightly larger estate* (the right derivative in `E`; a
claimant exactly at its cap counts as capped, one exactly at its floor counts as free, and at
`E = C/2` CE, Pin and T use their upper branch); `side=-1` the piece for a slightly smaller
estate. Where no such piece exists (`E = C` with `side=+1`, `E = 0` with `side=-1`) the
other side is used. Away from kinks both sides agree with finite differences.

**Smooth versions** (`temperature=tau > 0`, in the units of the claims): `clip` becomes the
soft clip `lo + tau [softplus((lam - lo)/tau) - softplus((lam - hi)/tau)]`, which stays inside
`[lo, hi]` and differs from `clip` by at most `tau log 2`; `lambda` is found by Newton's
method with implicit differentiation (`landjax.engine.solve`, started at the exact
`lambda`), so the awards still sum to `E` (to ~1e-12 relative). The switch at `E = C/2` of
CE, Pin and T is smoothed too: `E2 = tau [softplus((E - H)/tau) - softplus(-H/tau)]` and
`E1 = E - E2` (both stay in `[0, H]`), and T = `WF(0,h,E1) + h - WF(0,h,H-E2)`, Pin =
`WF(0,h,E1) + WF(0,h,E2)`, CE = `WF(0,h,E1) + WF(h,c,H+E2) - h`. As `tau -> 0` every smooth
rule converges to the exact one (error `O(n tau)`).

**Batches.** The rule functions act on one problem (1-D `c`, scalar `E`); `jax.vmap` them, or
call `landjax.models.claims.allocate_batch` for many problems with the same number of
claimants (chunked). The seven further rules are in `landjax.models.claims.extended`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from landjax.engine import solve as engine_solve
from landjax.models.claims.names import RULE_NAMES, canonical_rule

#: below this many claimants the breakpoint sums are evaluated densely (O(n^2)); above, by sorting
_DENSE_MAX_N = 64

# ----------------------------------------------------------------------------------------------
# The exact water-filling primitive
# ----------------------------------------------------------------------------------------------


def _breakpoint_sums(lo: jax.Array, hi: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Sorted breakpoints `b` (2n) and `S(b_k) = sum_i clip(b_k, lo_i, hi_i)`."""
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
            return b * cnt.astype(b.dtype) + (pref[-1] - pref[cnt])

        s = sum_max(lo) - sum_max(hi) + jnp.sum(hi)
        s = jax.lax.cummax(s)  # the exact sum is nondecreasing; remove rounding wiggles
    return b, s


def _segment(lo: jax.Array, hi: jax.Array, E: jax.Array, side: int):
    """Locate the breakpoint segment `(b_{k-1}, b_k)` of `lambda` (no gradient).

    `side=+1`: the segment just above `lambda` (first `k` with `S(b_k) > E`); `side=-1`:
    just below (first `k` with `S(b_k) >= E`). Falls back to the other side where none exists.
    For small `n` the sort is skipped: `S` is nondecreasing, so the segment is
    `(max{b : S(b) <= E}, min{b : S(b) > E})` over the unsorted breakpoints (dense, O(n^2)).
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


def water_fill(lo: Any, hi: Any, E: Any, side: Any = 1, return_level: bool = False):
    """Exact water-filling `x_i = clip(lambda, lo_i, hi_i)` with `sum x = E`; the primitive of eqs. (2)-(6).

    **Arguments:**

    - `lo`, `hi`: 1-D bounds with `lo <= hi`.
    - `E`: scalar with `sum lo <= E <= sum hi` (outside, the result is finite but meaningless).
    - `side`: `+1` or `-1` (may be a traced integer): which one-sided derivative to return at
      a kink (see module docstring).
    - `return_level`: also return `lambda`.

    **Returns:** `x` (and `lambda`). Differentiable in `lo`, `hi` and `E`.
    """
    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi)
    E = jnp.asarray(E)
    below, above = _segment(lo, hi, E, side)
    at_hi = hi <= below
    at_lo = (lo >= above) & ~at_hi
    free = ~at_hi & ~at_lo
    n_free = jnp.sum(free).astype(lo.dtype)
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
    """`E <= C/2` of eqs. (4)-(6); at `E = C/2` the branch whose derivative `side` asks for."""
    return E < C / 2 if side > 0 else E <= C / 2


def proportional(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Proportional rule `x = lambda c` with `lambda = E/C`, eq. (1)."""
    c = jnp.asarray(c)
    C = jnp.sum(c)
    pos = C > 0
    return jnp.where(pos, c * (E / jnp.where(pos, C, 1.0)), 0.0)


def cea(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained equal awards `x_i = min(c_i, lambda)`, eq. (2)."""
    c = jnp.asarray(c)
    return water_fill(jnp.zeros_like(c), c, E, side)


def cel(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained equal losses `x_i = max(0, c_i - lambda)`, eq. (3): CEA applied to the losses."""
    c = jnp.asarray(c)
    return c - water_fill(jnp.zeros_like(c), c, jnp.sum(c) - E, -side)


# CE, Pin and T call the water-filling once, with the branch's bounds and estate selected first
# (the same values as evaluating both branches of eqs. (4)-(6) and selecting, at half the work).


def ce(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Constrained egalitarian rule (Chun, Schummer & Thomson 2001), eq. (4).

    `min(c_i/2, lambda)` if `E <= C/2`, else `max(c_i/2, min(c_i, lambda))` (= `WF(c/2, c, E)`).
    """
    c = jnp.asarray(c)
    h = c / 2
    low = _lower_branch(E, jnp.sum(c), side)
    return water_fill(jnp.where(low, 0.0, h), jnp.where(low, h, c), E, side)


def piniles(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Piniles' rule, eq. (5): CEA on half-claims, twice.

    `min(c_i/2, lambda)` if `E <= C/2`, else `c_i/2 + min(c_i/2, lambda)`.
    """
    c = jnp.asarray(c)
    C = jnp.sum(c)
    h = c / 2
    low = _lower_branch(E, C, side)
    w = water_fill(jnp.zeros_like(c), h, jnp.where(low, E, E - C / 2), side)
    return jnp.where(low, w, h + w)


def talmud(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Talmud rule (Aumann & Maschler 1985), eq. (6): CEA on half-claims, then CEL on the other halves.

    `min(c_i/2, lambda)` if `E <= C/2`, else `c_i - min(c_i/2, lambda)`.
    """
    c = jnp.asarray(c)
    C = jnp.sum(c)
    h = c / 2
    low = _lower_branch(E, C, side)
    w = water_fill(jnp.zeros_like(c), h, jnp.where(low, E, C - E), jnp.where(low, side, -side))
    return jnp.where(low, w, c - w)


SIX: dict[str, Callable] = {"P": proportional, "CEA": cea, "CEL": cel, "CE": ce, "Pin": piniles, "T": talmud}


# ----------------------------------------------------------------------------------------------
# Smooth versions
# ----------------------------------------------------------------------------------------------


def soft_clip(lam: Any, lo: Any, hi: Any, tau: Any) -> jax.Array:
    """Soft `clip(lam, lo, hi)`: `lo + tau [softplus((lam-lo)/tau) - softplus((lam-hi)/tau)]`.

    Stays in `[lo, hi]`, strictly increasing in `lam` where `lo < hi`, and within
    `tau log 2` of the exact clip.
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
    """Smooth water-filling: `x_i = soft_clip(lambda, lo_i, hi_i, tau)` with `sum x = E`.

    `lambda` solves `sum_i soft_clip(lambda, lo_i, hi_i, tau) = E` by Newton's method with
    backtracking (`landjax.engine.solve`, native backend, implicit differentiation), started
    at the exact level of `water_fill`. At the ends (`E <= sum lo` or `E >= sum hi`) the
    limit `lo` or `hi` is returned. With `return_solution` the engine's `Solution` (converged
    flag, residual norm, steps) comes back too.
    """
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
    sol = engine_solve(
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
    """`(E1, E2)` with `E1 + E2 = E`: smooth `min(E, C/2)` and `max(0, E - C/2)`, both in `[0, C/2]`."""
    H = C / 2
    E2 = tau * (jax.nn.softplus((E - H) / tau) - jax.nn.softplus(-H / tau))
    E2 = jnp.clip(E2, 0.0, H)
    return E - E2, E2


#: rules with a smooth version built on the smooth water-filling
SMOOTH_WF_RULES: tuple[str, ...] = ("P", "CEA", "CEL", "CE", "Pin", "T", "RTalmud", "AV")


def smooth_six(rule: str) -> Callable:
    """The smooth version of a water-filling rule: `f(c, E, tau) -> (x, converged)` for one problem.

    The six rules of eqs. (1)-(6), and RTalmud (`CEL(h, E1) + CEA(h, E2)` on the soft split) and
    AV (mean of smooth CEA and smooth CEL). `converged` is the conjunction of the Newton solves'
    flags. P is returned unchanged (it is smooth already).
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
        if name == "AV":
            xa, oka = swf(z, c, E, tau)
            xl, okl = swf(z, c, C - E, tau)
            return 0.5 * (xa + c - xl), oka & okl
        h = c / 2
        E1, E2 = _soft_split(E, C, tau)
        x1, ok1 = swf(z, h, E1, tau)
        if name == "T":
            x2, ok2 = swf(z, h, C / 2 - E2, tau)
            return x1 + h - x2, ok1 & ok2
        if name == "Pin":
            x2, ok2 = swf(z, h, E2, tau)
            return x1 + x2, ok1 & ok2
        if name == "RTalmud":  # CEL on halves for E1, CEA on halves for E2
            x2, ok2 = swf(z, h, C / 2 - E1, tau)
            x3, ok3 = swf(z, h, E2, tau)
            return h - x2 + x3, ok1 & ok2 & ok3
        # CE
        x2, ok2 = swf(h, c, C / 2 + E2, tau)
        return x1 + x2 - h, ok1 & ok2

    f.__name__ = f"smooth_{name}"
    f.__doc__ = f"Smooth {RULE_NAMES[name]} rule (see claims module docstring)."
    return f
