"""Digraph games and the van den Brink-Borm beta (Zuo, Hu & Li 2019, eqs. 7-8), for comparing rules.

A digraph `(N, D)` on nodes `N` has successor sets `S_D(i) = {j : (i, j) in D}` and predecessor
sets `P_D(j) = {i : (i, j) in D}`. The *digraph game* (eq. 7) gives a coalition `K` the number of
nodes all of whose predecessors lie in `K`: `v_D(K) = |{j in S_D(K) : P_D(j) subset K}|`. Its
Shapley value is the beta measure (eq. 8)

    beta_i(D) = sum_{j in S_D(i)} 1 / |P_D(j)|,

so every node `j` that has predecessors hands one unit, split equally, to them: on any digraph
the betas sum to the number of nodes with at least one predecessor, an integer.

The paper compares the six rules with beta but never states its digraph. landjax defines it:

**Per-district dominance digraphs, summed** (`relation="less"`, the default). For each district
`d`, the digraph `D_d` on the six rules has an edge `i -> j` when rule `i` gives `d`
strictly less than rule `j` (ties within `tie_tol` give no edge). Then
`beta_i = sum_d beta_i(D_d)` (the sum of the per-district digraph games is itself a game whose
Shapley value is this sum). `relation="greater"` reverses the edges. Awards and
satisfaction ratios (award/claim) give the same digraphs, as the claim is common to all rules in a
district. The per-district betas sum to an integer (at most 5 per district), so no such digraph can
give the paper's Table 6, whose values sum to 40.56.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from landjax.errors import InputError


def beta(adjacency: Any) -> np.ndarray:
    """The beta measure of a digraph, eq. (8): `beta_i = sum_{j in S(i)} 1/|P(j)|`.

    **Arguments:** `adjacency`: square 0/1 (bool) matrix, `A[i, j] = 1` for an edge `i -> j`
    (the diagonal must be zero).

    **Returns:** float array of length `n`.
    """
    A = np.asarray(adjacency)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise InputError(f"adjacency: must be a square matrix, got shape {A.shape}")
    if not np.isin(A, (0, 1)).all():
        raise InputError("adjacency: entries must be 0/1 (an unweighted digraph)")
    A = A.astype(bool)
    if A.diagonal().any():
        raise InputError("adjacency: loops (i -> i) are not allowed")
    indeg = A.sum(axis=0)  # |P(j)|
    w = np.where(indeg > 0, 1.0 / np.maximum(indeg, 1), 0.0)
    return A.astype(float) @ w


def digraph_game(adjacency: Any, coalition: Sequence[int]) -> int:
    """The digraph game of eq. (7): `v_D(K) = |{j in S_D(K) : P_D(j) subset K}|`."""
    A = np.asarray(adjacency).astype(bool)
    K = np.zeros(A.shape[0], bool)
    K[list(coalition)] = True
    succ = A[K].any(axis=0)
    preds_in_K = ~(A & ~K[:, None]).any(axis=0)
    return int(np.sum(succ & preds_in_K))


def shapley_brute_force(adjacency: Any) -> np.ndarray:
    """Shapley value of the digraph game by enumerating coalitions (for tests; n <= 10)."""
    A = np.asarray(adjacency).astype(bool)
    n = A.shape[0]
    from math import factorial

    phi = np.zeros(n)
    for i in range(n):
        others = [k for k in range(n) if k != i]
        for r in range(n):
            for K in itertools.combinations(others, r):
                wgt = factorial(r) * factorial(n - r - 1) / factorial(n)
                phi[i] += wgt * (digraph_game(A, list(K) + [i]) - digraph_game(A, K))
    return phi


def dominance_digraph(values: Any, *, relation: str = "less", tie_tol: float = 1e-6) -> np.ndarray:
    """Digraph on the entries of `values` (one per rule): `i -> j` iff `v_i < v_j - tie_tol`.

    `relation="greater"` gives `i -> j` iff `v_i > v_j + tie_tol`.
    """
    v = np.asarray(values, dtype=float).reshape(-1)
    if relation == "less":
        return (v[:, None] < v[None, :] - tie_tol).astype(int)
    if relation == "greater":
        return (v[:, None] > v[None, :] + tie_tol).astype(int)
    raise InputError(f"relation: must be 'less' or 'greater', got {relation!r}")


def rule_betas(awards: pd.DataFrame, *, relation: str = "less", tie_tol: float = 1e-6) -> pd.Series:
    """Summed per-district beta of each rule (columns of `awards`; rows are districts).

    **Arguments:**

    - `awards`: DataFrame, one row per district, one column per rule.
    - `relation`: edge `i -> j` when rule `i` gives the district `"less"` (default) or
      `"greater"` than rule `j`.
    - `tie_tol`: awards closer than this (same units) are ties: no edge.

    **Returns:** Series of betas indexed by rule; it sums to an integer.
    """
    vals = awards.to_numpy(dtype=float)
    total = np.zeros(vals.shape[1])
    for row in vals:
        total += beta(dominance_digraph(row, relation=relation, tie_tol=tie_tol))
    return pd.Series(total, index=list(awards.columns), name="beta")


__all__ = ["beta", "digraph_game", "shapley_brute_force", "dominance_digraph", "rule_betas"]
