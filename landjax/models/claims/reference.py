"""Plain NumPy/Python implementations of the thirteen rules, one problem at a time, written
independently of the JAX water-filling (benchmark baseline and test oracle), and the exact
integer-arithmetic average-of-awards rule `aa_exact`."""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np

from landjax.models.claims.names import canonical_rule


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


def _np_ce_upper(c: np.ndarray, h: np.ndarray, E: float) -> np.ndarray:
    # max(h, min(c, lam)): search over sorted breakpoints
    bps = np.sort(np.concatenate([h, c]))
    tot = np.clip(bps[:, None], h[None, :], c[None, :]).sum(axis=1)
    k = int(np.searchsorted(tot, E, side="left"))
    k = min(max(k, 1), len(bps) - 1)
    b0, b1, s0, s1 = bps[k - 1], bps[k], tot[k - 1], tot[k]
    lam = b1 if s1 == s0 else b0 + (E - s0) * (b1 - b0) / (s1 - s0)
    return np.clip(lam, h, c)


def _np_mo(c: np.ndarray, E: float) -> np.ndarray:
    """Minimal overlap by the case analysis of the ClaimsProblems library (sorted claims, the
    level `t` as the maximum of `(sum_{j > k} c_(j) - E)/(n - k - 1)`)."""
    order = np.argsort(c, kind="stable")
    d = c[order]
    n = len(d)
    if E <= d[-1]:
        t = E
        private = np.zeros(n)
    else:
        t = max((d[k + 1 :].sum() - E) / (n - k - 2) for k in range(-1, n - 2))
        private = np.maximum(d - t, 0.0)
    x = np.zeros(n)
    prev, acc = 0.0, 0.0
    for k in range(n):
        a = min(d[k], t)
        acc += (a - prev) / (n - k)
        prev = a
        x[k] = acc
    out = np.empty(n)
    out[order] = x + private
    return out


def _np_dt(c: np.ndarray, E: float, max_steps: int = 10_000_000) -> np.ndarray:
    """Dominguez-Thomson recursion as defined (step: 1/n of the truncated claims)."""
    n = len(c)
    d = c.astype(float).copy()
    x = np.zeros(n)
    pos = c > 0
    if E >= c.sum():
        return c.astype(float).copy()
    for _ in range(max_steps):
        if not (E > d[pos].min() and E < d.sum()):
            break
        b = np.minimum(d, E) / n
        x += b
        d -= b
        E -= b.sum()
    else:
        return np.full(n, np.nan)
    if E >= d.sum():
        return x + d * (E / d.sum())
    return x + np.where(pos, E / pos.sum(), 0.0)


def ra_shapley(c: np.ndarray, E: float) -> np.ndarray:
    """Random arrival as the Shapley value of the bankruptcy game `v(S) = max(0, E - c(N \\ S))`,
    coalition by coalition (marginal contributions, exact weights as fractions of `n!`)."""
    n = len(c)
    D = float(c.sum())
    x = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for s in range(n):
            w = math.factorial(s) * math.factorial(n - 1 - s) / math.factorial(n)
            for S in combinations(others, s):
                cS = float(sum(c[j] for j in S))
                v_with = max(0.0, E - (D - cS - c[i]))
                v_without = max(0.0, E - (D - cS))
                x[i] += w * (v_with - v_without)
    return x


@functools.lru_cache(maxsize=4096)
def _aa_exact_cached(c: tuple[float, ...], E: float) -> tuple[float, ...]:
    return tuple(_aa_exact(np.array(c), E).tolist())


def aa_exact(claims: Any, estate: float) -> np.ndarray:
    """Average-of-awards rule in exact integer arithmetic (see `_aa_exact`; results cached,
    so repeated problems cost nothing)."""
    c = tuple(float(v) for v in np.asarray(claims, dtype=np.float64).reshape(-1))
    return np.array(_aa_exact_cached(c, float(estate)))


def _aa_exact(claims: Any, estate: float) -> np.ndarray:
    """Average-of-awards rule in exact integer arithmetic: the same inclusion-exclusion as
    `landjax.models.claims.extended.average_of_awards` over the coalitions of positive
    claimants, with the claims and the estate (binary floats) scaled to integers, so that every
    power and sum is exact; the centroid is rounded to float64 once at the end. Cost
    `O(2^m m)` big-integer operations for `m` positive claims."""
    c = np.asarray(claims, dtype=np.float64)
    E = float(estate)
    n = len(c)
    fr = [Fraction(float(v)) for v in c] + [Fraction(E)]
    den = math.lcm(*(f.denominator for f in fr))
    ci = [int(f * den) for f in fr[:-1]]
    Ei = int(fr[-1] * den)
    C = sum(ci)
    dual = 2 * Ei > C
    if dual:
        Ei = C - Ei
    pos = [i for i in range(n) if ci[i] > 0]
    m = len(pos)
    y = [Fraction(0)] * n
    if Ei > 0 and m == 1:
        y[pos[0]] = Fraction(Ei)
    elif Ei > 0 and m >= 2:
        V = 0
        M = [0] * n  # times m, to stay in integers
        for mask in range(1 << m):
            members = [pos[k] for k in range(m) if mask >> k & 1]
            r = Ei - sum(ci[j] for j in members)
            if r <= 0:
                continue
            t = r ** (m - 1) * (-1 if len(members) % 2 else 1)
            V += t
            for j in pos:
                M[j] += t * (m * ci[j] * (j in members) + r)
        y = [Fraction(M[j], V * m) for j in range(n)]
    out = np.array([float((Fraction(ci[j]) - y[j] if dual else y[j]) / den) for j in range(n)])
    return out


def reference_numpy(claims: Any, estate: float, rule: str) -> np.ndarray:
    """Plain NumPy implementation of one rule for one problem (benchmark baseline, test oracle).

    The six of Zuo, Hu & Li (2019), eqs. (1)-(6), are built on CEA by sorted claims, independently
    of the water-filling: CEL by duality, the half-claims rules from CEA on `c/2`. APRO directly;
    RA as the Shapley value coalition by coalition (`ra_shapley`, `n <= 12` here); MO by the
    case analysis of the ClaimsProblems library; DT by its recursion; AV from CEA and CEL; AA in
    exact integer arithmetic (`aa_exact`).
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
    if name == "AV":
        return 0.5 * (_np_cea(c, E) + c - _np_cea(c, C - E))
    if name == "APRO":
        m = np.maximum(E - (C - c), 0.0)
        E1 = E - m.sum()
        c1 = np.minimum(c - m, E1)
        return m + (c1 * (E1 / c1.sum()) if c1.sum() > 0 else 0.0)
    if name == "RA":
        return ra_shapley(c, E)
    if name == "MO":
        return _np_mo(c, E)
    if name == "DT":
        return _np_dt(c, E)
    if name == "AA":
        return aa_exact(c, E)
    if name == "RTalmud":
        if E <= C / 2:
            return h - _np_cea(h, C / 2 - E)
        return h + _np_cea(h, E - C / 2)
    if E <= C / 2:
        return _np_cea(h, E)
    if name == "Pin":
        return h + _np_cea(h, E - C / 2)
    if name == "T":
        return c - _np_cea(h, C - E)
    return _np_ce_upper(c, h, E)
