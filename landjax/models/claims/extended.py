"""The seven further claims rules of the reference library: APRO, RA, MO, RTalmud, DT, AV, AA.

Each function acts on one problem (1-D claims `c`, scalar estate `E` with `0 <= E <= sum c`),
is pure JAX and `jax.vmap`-able, and takes the `side` argument of the six rules for a uniform
signature (only RTalmud and AV, built on the water-filling of `landjax.models.claims.rules`,
use it; the others are differentiated by plain automatic differentiation, which picks one
piece at a kink).

=========  ===================================================================  =====================
name       rule                                                                 derivatives
=========  ===================================================================  =====================
APRO       minimal rights first, claims truncated at the rest, then proportional   piecewise smooth
RA         random arrival: mean of first-come-first-served over the n! orders     piecewise linear
MO         minimal overlap                                                      piecewise linear
RTalmud    reverse Talmud: CEL on half-claims, then CEA on the other halves     piecewise linear
DT         Dominguez-Thomson: repeated `1/n` of the truncated claims          forward mode only
AV         average of CEA and CEL                                               piecewise linear
AA         average of awards: centre of mass of the set of awards vectors       smooth (C^(n-3))
=========  ===================================================================  =====================

**Limits.** RA and AA enumerate the `2^n` coalitions (exact, no sampling): `n <=`
`SUBSET_MAX_N` (20) claimants (`2^20` coalitions, about 20 million operations per
problem). DT iterates its defining recursion until the rest of the estate is below the smallest
remaining positive claim (then the limit is an equal split, in closed form); the number of steps
grows like `estate / smallest claim` in the worst case and is capped at `DT_MAX_STEPS`
(the award is NaN beyond, and the NumPy API raises). AA's inclusion-exclusion sum alternates in
sign; `aa_condition` measures the cancellation and the NumPy API recomputes a problem in
exact integer arithmetic (`landjax.models.claims.reference.aa_exact`) when it is large.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.errors import InputError
from landjax.models.claims.rules import _lower_branch, cea, cel, proportional, water_fill

#: RA and AA enumerate the 2^n coalitions: at most this many claimants
SUBSET_MAX_N = 20
#: coalitions per block of the enumeration (memory: block x n)
_BLOCK_LOG2 = 12
#: cap on the steps of the Dominguez-Thomson recursion
DT_MAX_STEPS = 100_000


def _check_subset_n(n: int, rule: str) -> None:
    if n > SUBSET_MAX_N:
        raise InputError(
            f"claims: the {rule} rule is computed exactly over the 2^n coalitions, for at most "
            f"{SUBSET_MAX_N} claimants; this problem has {n}"
        )


def _coalition_sum(n: int, block_fn: Any, init: Any) -> Any:
    """`sum_{S subset of N} block_fn(masks)` over all `2^n` coalitions, in blocks of `2^12`;
    `block_fn(m)` gets a `(size, n)` boolean membership matrix and returns an array like `init`."""
    bits = jnp.arange(n)
    size = 2 ** min(n, _BLOCK_LOG2)
    n_blocks = 2**n // size

    def block(k):
        idx = k * size + jnp.arange(size)
        m = ((idx[:, None] >> bits[None, :]) & 1) == 1
        return block_fn(m)

    if n_blocks == 1:
        return jax.tree_util.tree_map(jnp.add, init, block(0))

    def body(acc, k):
        return jax.tree_util.tree_map(jnp.add, acc, block(k)), None

    acc, _ = jax.lax.scan(body, init, jnp.arange(n_blocks))
    return acc


# ----------------------------------------------------------------------------------------------
# APRO
# ----------------------------------------------------------------------------------------------


def adjusted_proportional(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Adjusted proportional rule (Curiel, Maschler & Tijs 1987, "Bankruptcy games"; Thomson 2019).

    Each claimant first gets its minimal right `m_i = max(0, E - sum_{j != i} c_j)`; the claims
    are revised to `c'_i = min(c_i - m_i, E')` with `E' = E - sum m` (truncated at what is
    left), and `E'` is divided proportionally to `c'`: `x = m + (E'/sum c') c'`.
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    D = jnp.sum(c)
    m = jnp.maximum(E - (D - c), 0.0)
    E1 = E - jnp.sum(m)
    c1 = jnp.minimum(c - m, E1)
    return m + proportional(c1, E1)


# ----------------------------------------------------------------------------------------------
# RA
# ----------------------------------------------------------------------------------------------


def _shapley_weights(n: int) -> np.ndarray:
    """`w(s) = s! (n-1-s)! / n!`, `s = 0..n-1`: the probability that claimant `i` arrives
    right after a given coalition of size `s` (not containing `i`)."""
    return np.array([math.exp(math.lgamma(s + 1) + math.lgamma(n - s) - math.lgamma(n + 1)) for s in range(n)])


def random_arrival(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Random arrival rule (O'Neill 1982, "A problem of rights arbitration from the Talmud").

    The claimants arrive in a random order, each equally likely; each is paid its claim in full,
    or what is left: `RA_i = (1/n!) sum_orders min(c_i, max(0, E - c(P_i)))` with `P_i` the
    claimants before `i`. Computed exactly as the Shapley value of the bankruptcy game, grouping
    the orders by the coalition that precedes `i`:
    `RA_i = sum_{S not containing i} |S|! (n-1-|S|)!/n! min(c_i, max(0, E - c(S)))`
    (all `2^n` coalitions, `n <=` `SUBSET_MAX_N`).
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    n = c.shape[0]
    _check_subset_n(n, "RA")
    w = jnp.asarray(_shapley_weights(n))

    def block(m):
        cS = jnp.sum(jnp.where(m, c[None, :], 0.0), axis=1)
        s = jnp.minimum(jnp.sum(m, axis=1), n - 1)
        r = jnp.maximum(E - cS, 0.0)
        pay = jnp.minimum(c[None, :], r[:, None]) * w[s][:, None]
        return jnp.sum(jnp.where(m, 0.0, pay), axis=0)

    return _coalition_sum(n, block, jnp.zeros(n, c.dtype))


# ----------------------------------------------------------------------------------------------
# MO
# ----------------------------------------------------------------------------------------------


def minimal_overlap(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Minimal overlap rule (O'Neill 1982; closed form of Chun & Thomson 2005).

    Each claimant claims specific units of the estate, arranged so that as many units as possible
    are claimed by one claimant only; each unit is then split equally among its claimants. With the
    claims sorted `c_(1) <= ... <= c_(n)` and a level `t`:
    `x_(i) = sum_{k <= i} [min(c_(k), t) - min(c_(k-1), t)] / (n - k + 1) + max(0, c_(i) - t)`
    where `t = E` (and no private part `max(0, c_(i) - t)`) if `E <= c_(n)`, and otherwise
    `t` solves `sum_i max(0, c_i - t) = E - t` (found exactly on the sorted breakpoints).
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    n = c.shape[0]
    order = jnp.argsort(jax.lax.stop_gradient(c))
    d = c[order]
    dmax = d[-1]
    # E > dmax: t solves h(t) = t + sum (d_j - t)^+ = E; on [b_k, b_{k+1}] (b = 0, d_(1), ...)
    # h(t) = T_k - (n - k - 1) t with T_k = sum_{j >= k} d_j (0-indexed)
    T = jnp.cumsum(d[::-1])[::-1]
    b = jnp.concatenate([jnp.zeros(1, d.dtype), d[:-1]])
    k_idx = jnp.arange(n, dtype=d.dtype)
    hb = T - (n - k_idx - 1) * b
    k = jnp.sum(jax.lax.stop_gradient(hb) >= jax.lax.stop_gradient(E)) - 1
    k = jnp.clip(k, 0, max(n - 2, 0))
    t_hi = (T[k] - E) / jnp.maximum(n - k - 1, 1).astype(d.dtype)
    above = E > dmax
    t = jnp.where(above, t_hi, E)
    a = jnp.minimum(d, t)
    inc = (a - jnp.concatenate([jnp.zeros(1, d.dtype), a[:-1]])) / (n - k_idx)
    x_sorted = jnp.cumsum(inc) + jnp.where(above, jnp.maximum(d - t, 0.0), 0.0)
    return jnp.zeros_like(c).at[order].set(x_sorted)


# ----------------------------------------------------------------------------------------------
# RTalmud, AV
# ----------------------------------------------------------------------------------------------


def reverse_talmud(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Reverse Talmud rule (Chun, Schummer & Thomson 2001, "Constrained egalitarianism").

    CEL on the half-claims if `E <= C/2` (`x_i = max(0, c_i/2 - lambda)`), else every claimant
    gets its half-claim and the rest `E - C/2` is divided by CEA on the half-claims
    (`x_i = c_i/2 + min(c_i/2, lambda)`): the Talmud rule with the order of CEA and CEL reversed.
    One water-filling: `h - WF(0, h, C/2 - E)` below, `h + WF(0, h, E - C/2)` above.
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    C = jnp.sum(c)
    h = c / 2
    low = _lower_branch(E, C, side)
    w = water_fill(jnp.zeros_like(c), h, jnp.where(low, C / 2 - E, E - C / 2), jnp.where(low, -side, side))
    return jnp.where(low, h - w, h + w)


def average_cea_cel(c: Any, E: Any, side: int = 1) -> jax.Array:
    """AV: the average of the constrained equal awards and constrained equal losses rules,
    `(CEA + CEL)/2` (Thomson 2019; the `AV` rule of the ClaimsProblems library)."""
    return 0.5 * (cea(c, E, side) + cel(c, E, side))


# ----------------------------------------------------------------------------------------------
# DT
# ----------------------------------------------------------------------------------------------


def _dt_jump(e: jax.Array, d: jax.Array, n: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Many steps of the DT recursion at once, in closed form, while the split into *small*
    claims (`d_i < e`: paid `d_i/n` per step, so `d_i` shrinks by `a = 1 - 1/n`) and *large*
    ones (paid `e/n`) does not change. Large claims stay large (`d_j - e` grows), so the phase
    ends when `e_k <= a^k max_small d`. With `f(k) = e_k / a^k`, `r = l/(n-1)` (`l` small
    claims, sum `D_L`) and `beta = D_L/(n-1)`: `f(k) = r^k (e + g) - g` with `g = beta/(1-r)`
    (`r != 1`), `f(k) = e - beta k` (`r = 1`). The jump is one step short of the real-valued
    end of the phase (rounding can never overshoot it); the plain steps of the loop finish it.
    Large claimants share the rest of what was paid equally (balance)."""
    small = d < e
    l = jnp.sum(small).astype(d.dtype)
    g = n - l
    DL = jnp.sum(jnp.where(small, d, 0.0))
    T = jnp.max(jnp.where(small, d, 0.0))
    a = 1.0 - 1.0 / n
    r = l / (n - 1)
    beta = DL / (n - 1)
    is1 = l == n - 1
    one_minus_r = jnp.where(is1, 1.0, 1.0 - r)
    gam = beta / one_minus_r
    num = jnp.where(r < 1, (T + gam) / (e + gam), (gam + T) / (gam + e))
    log_r = jnp.log(jnp.where(is1, 0.5, r))
    k_real = jnp.where(is1, (e - T) / jnp.where(beta > 0, beta, 1.0), jnp.log(jnp.maximum(num, 1e-300)) / log_r)
    ok = (l >= 1) & (T > 0) & jnp.isfinite(k_real)
    j = jnp.where(ok, jnp.clip(jnp.floor(k_real) - 1.0, 0.0, 1e15), 0.0)
    j = jax.lax.stop_gradient(j)
    aj = jnp.exp(j * jnp.log(a))
    f = jnp.where(is1, e - beta * j, jnp.exp(j * jnp.log(jnp.where(is1, 0.5, r))) * (e + gam) - gam)
    e_new = jnp.where(j > 0, aj * f, e)
    inc_small = jnp.where(small, -d * jnp.expm1(j * jnp.log(a)), 0.0)
    inc_large = (e - e_new - jnp.sum(inc_small)) / jnp.maximum(g, 1)
    inc = jnp.where(small, inc_small, inc_large)
    # small claims shrink by a^j exactly (d - inc would round a tiny remainder to 0)
    return e_new, jnp.where(small, d * aj, d - inc_large), inc


def dominguez_thomson(c: Any, E: Any, side: int = 1, max_steps: int = DT_MAX_STEPS) -> jax.Array:
    """Dominguez-Thomson rule (Dominguez & Thomson 2006, "A new solution to the problem of
    adjudicating conflicting claims", Economic Theory 28).

    Step `k` gives every claimant `1/n` of its claim truncated at the estate,
    `b_i = min(c^k_i, E^k)/n`, and the next step starts from `(E^k - sum b, c^k - b)`;
    `DT = sum_k b^k`. Once the rest of the estate is at most the smallest remaining positive
    claim, every later step gives the positive claimants equal amounts, so the remainder is
    split equally among them (the limit, in closed form). Runs of steps in which the same claims
    are below the estate are taken at once in closed form (`_dt_jump`), so a loop iteration
    (a jump and one plain step) ends a phase; at most `max_steps` iterations (NaN beyond).
    Differentiable in forward mode (`jax.jvp`/`jax.jacfwd`).
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    n = c.shape[0]
    if n == 1:
        return jnp.minimum(c, E)
    pos = c > 0
    m = jnp.maximum(jnp.sum(pos), 1).astype(c.dtype)
    big = jnp.asarray(jnp.inf, c.dtype)
    full = E >= jnp.sum(c)

    def cond(state):
        e, d, _, k = state
        dmin = jnp.min(jnp.where(pos, d, big))
        return (e > dmin) & (e < jnp.sum(d)) & (k < max_steps) & ~full

    def body(state):
        e, d, x, k = state
        e, d, inc = _dt_jump(e, d, n)
        x = x + inc
        b = jnp.minimum(d, e) / n
        go = e > jnp.min(jnp.where(pos, d, big))
        b = jnp.where(go, b, 0.0)
        return e - jnp.sum(b), d - b, x + b, k + 1

    e, d, x, k = jax.lax.while_loop(cond, body, (E, c, jnp.zeros_like(c), jnp.asarray(0)))
    done_full = full | (e >= jnp.sum(d))
    sd = jnp.sum(d)
    x = jnp.where(done_full, x + d * (e / jnp.where(sd > 0, sd, 1.0)), x + jnp.where(pos, e / m, 0.0))
    x = jnp.where(full, c, x)
    return jnp.where(k >= max_steps, jnp.nan, x)


# ----------------------------------------------------------------------------------------------
# AA
# ----------------------------------------------------------------------------------------------


def _aa_sums(c: jax.Array, E: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Inclusion-exclusion sums of the awards polytope `{0 <= x <= c, sum x = E}` (positive claims
    only): `V = sum_S (-1)^|S| r_S^(m-1)`, `M_i = sum_S (-1)^|S| r_S^(m-1) (c_i [i in S] + r_S/m)`
    and `A = sum_S r_S^(m-1)`, with `r_S = max(0, E - c(S))/E`, `m` the number of positive
    claims and `S` over the coalitions of positive claimants. `M/V` is the centroid; `A/|V|` the
    cancellation factor."""
    n = c.shape[0]
    pos = c > 0
    m = jnp.sum(pos).astype(c.dtype)
    Es = jnp.where(E > 0, E, 1.0)
    expo = jnp.maximum(m - 1, 1.0)

    def block(msk):
        ok = ~jnp.any(msk & ~pos[None, :], axis=1)
        cS = jnp.sum(jnp.where(msk, c[None, :], 0.0), axis=1)
        s = jnp.sum(msk, axis=1)
        r = jnp.maximum(E - cS, 0.0) / Es
        p = jnp.where(ok, r**expo, 0.0)
        sign = jnp.where(s % 2 == 0, 1.0, -1.0)
        term = sign * p
        mom = term[:, None] * (jnp.where(msk, c[None, :], 0.0) + (r * E / jnp.maximum(m, 1.0))[:, None])
        return jnp.sum(term), jnp.sum(mom, axis=0), jnp.sum(p)

    init = (jnp.zeros((), c.dtype), jnp.zeros(n, c.dtype), jnp.zeros((), c.dtype))
    return _coalition_sum(n, block, init)


def _aa_reduced(c: jax.Array, E: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Self-duality reduction: `E' = min(E, C - E)`; returns `(E', dual, C)`."""
    C = jnp.sum(c)
    dual = E > C / 2
    return jnp.where(dual, C - E, E), dual, C


def average_of_awards(c: Any, E: Any, side: int = 1) -> jax.Array:
    """Average-of-awards rule (Mirás Calvo, Quinteiro Sandomingo & Sánchez-Rodríguez 2022, "The
    average-of-awards rule for claims problems", Social Choice and Welfare 59): the centre of mass
    of the set of awards vectors `X(E, c) = {x : 0 <= x <= c, sum x = E}`.

    Exact, by inclusion-exclusion over the coalitions `S` whose claims are met in full: the
    indicator of `x <= c` on the simplex `{x >= 0, sum x = E}` is `sum_S (-1)^|S| 1[x_S >= c_S]`,
    and each term is a simplex of side `E - c(S)` (volume `prop. (E - c(S))^(m-1)`, centroid
    `c_S + (E - c(S))/m`), so the centroid is `M/V` of `_aa_sums`. The rule is self-dual
    (Mirás Calvo et al. 2022), so the estate used is `min(E, C - E)` and `c - x` is returned
    above `C/2`: this keeps the alternating sum short. Claimants with zero claims get zero
    (the polytope is a face). `n <=` `SUBSET_MAX_N`.
    """
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    n = c.shape[0]
    _check_subset_n(n, "AA")
    Er, dual, C = _aa_reduced(c, E)
    pos = c > 0
    m = jnp.sum(pos)
    V, M, _ = _aa_sums(c, Er)
    ok = (Er > 0) & (m >= 2) & (V != 0)
    y = jnp.where(pos, M / jnp.where(ok, V, 1.0), 0.0)
    y = jnp.where(ok, y, jnp.where(m == 1, jnp.where(pos, Er, 0.0), jnp.zeros_like(c)))
    return jnp.where(dual, c - y, y)


def aa_condition(c: Any, E: Any) -> jax.Array:
    """Cancellation factor `sum_S |term_S| / |sum_S term_S|` of the AA inclusion-exclusion sum
    (after the self-duality reduction): the relative rounding error of `average_of_awards`
    is about this times `1e-16`. 1 where the sum has a single term."""
    c = jnp.asarray(c)
    E = jnp.asarray(E)
    _check_subset_n(c.shape[0], "AA")
    Er, _, _ = _aa_reduced(c, E)
    V, _, A = _aa_sums(c, Er)
    return jnp.where((Er > 0) & (V != 0), A / jnp.abs(jnp.where(V != 0, V, 1.0)), 1.0)


#: the seven further rules by name
SEVEN = {
    "APRO": adjusted_proportional,
    "RA": random_arrival,
    "MO": minimal_overlap,
    "RTalmud": reverse_talmud,
    "DT": dominguez_thomson,
    "AV": average_cea_cel,
    "AA": average_of_awards,
}
