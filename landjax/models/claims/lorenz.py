"""Comparisons a planner reads: Lorenz curves, Lorenz dominance between rules, Gini indices.

The Lorenz curve of an awards vector `x` (sum `E > 0`) is `L(k/n) = (x_(1) + ... + x_(k))/E`
with the awards sorted increasingly; `x` Lorenz-dominates `y` (`x` is the more equal
division) when `L_x >= L_y` at every `k` and `>` at some `k`. For the order-preserving rules
sorting the awards is sorting the claims, as in Thomson (2019) and the ClaimsProblems library. The
Gini index is `G = 2 sum_i i x_(i) / (n E) - (n + 1)/n` (0: equal split; `(n-1)/n`: one claimant
gets all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from landjax.errors import InputError
from landjax.models.claims.api import allocate, validate_problem
from landjax.models.claims.names import rule_list

if TYPE_CHECKING:
    import pandas as pd


def lorenz_points(x: Any) -> np.ndarray:
    """Lorenz curve of one awards vector: `n + 1` cumulative shares from 0 to 1 (sorted awards)."""
    a = np.sort(np.asarray(x, dtype=np.float64).reshape(-1))
    tot = a.sum()
    if not tot > 0:
        raise InputError("awards: the Lorenz curve needs a positive total (estate > 0)")
    return np.concatenate([[0.0], np.cumsum(a) / tot])


def gini(x: Any) -> float:
    """Gini index of a non-negative vector (awards or claims) with a positive sum."""
    a = np.sort(np.asarray(x, dtype=np.float64).reshape(-1))
    n = a.size
    tot = a.sum()
    if n == 0 or not tot > 0:
        raise InputError("gini: needs a non-empty vector with a positive sum")
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * a) / (n * tot) - (n + 1) / n)


def lorenz_compare(x: Any, y: Any, rtol: float = 1e-12) -> int | None:
    """`+1` if `x` Lorenz-dominates `y`, `-1` if `y` dominates `x`, `0` if their curves
    coincide, `None` if they cross (not comparable). Differences within `rtol` count as equal."""
    lx, ly = lorenz_points(x), lorenz_points(y)
    d = lx - ly
    ge = np.all(d >= -rtol)
    le = np.all(d <= rtol)
    if ge and le:
        return 0
    if ge:
        return 1
    if le:
        return -1
    return None


def lorenz_table(claims: Any, estate: Any, rules: str | Sequence[str] = "all") -> pd.DataFrame:
    """Lorenz dominance between every pair of rules on one problem: a square DataFrame (rows,
    columns: rules) with `lorenz_compare(row rule, column rule)` (`+1`, `-1`, `0`, or
    `None` where the curves cross)."""

    import pandas as pd

    c, E = validate_problem(claims, estate)
    names = rule_list(rules)
    aw = {r: allocate(c, E, r) for r in names}
    tab = pd.DataFrame(index=names, columns=names, dtype=object)
    for a in names:
        for b in names:
            tab.loc[a, b] = lorenz_compare(aw[a], aw[b])
    return tab


def lorenz_frame(claims: Any, estate: Any, rules: str | Sequence[str] = "all") -> pd.DataFrame:
    """Lorenz curves and Gini indices of the rules on one problem: columns `rule, k,
    share_claimants, share_awards, gini` (`k = 0..n`), plus a row set `rule = "claims"` for the
    claims themselves."""
    import pandas as pd

    c, E = validate_problem(claims, estate)
    n = c.size
    rows = []
    series = [("claims", c)] + [(r, allocate(c, E, r)) for r in rule_list(rules)]
    for name, x in series:
        pts = lorenz_points(x)
        g = gini(x)
        for k in range(n + 1):
            rows.append({"rule": name, "k": k, "share_claimants": k / n, "share_awards": pts[k], "gini": g})
    return pd.DataFrame(rows)


def gini_table(claims: Any, estate: Any, rules: str | Sequence[str] = "all") -> pd.DataFrame:
    """Gini index of the awards of each rule (and of the claims): columns `rule, gini`."""

    import pandas as pd

    c, E = validate_problem(claims, estate)
    rows = [{"rule": "claims", "gini": gini(c)}]
    rows += [{"rule": r, "gini": gini(allocate(c, E, r))} for r in rule_list(rules)]
    return pd.DataFrame(rows)
