"""Awards paths and schedules: the awards of a rule as the estate grows from 0 to the total claim
(Thomson 2019: the *path of awards* of a rule for a claims vector is the curve `E -> R(E, c)`; its
coordinates plotted against `E` are the *schedules of awards*), as DataFrames and figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from landjax._io import pyplot
from landjax.errors import InputError
from landjax.models.claims.api import allocate_batch, validate_problem
from landjax.models.claims.lorenz import lorenz_frame
from landjax.models.claims.names import RULE_NAMES, rule_list

if TYPE_CHECKING:
    import pandas as pd


def estate_grid(total: float, points: int = 201) -> np.ndarray:
    """`points` estates from 0 to `total` that include `total/2` exactly (the kink of the
    half-claims rules)."""
    if int(points) < 3:
        raise InputError(f"points: must be >= 3, got {points!r}")
    h = int(points) // 2 + 1
    lo = np.linspace(0.0, total / 2, h)
    hi = np.linspace(total / 2, total, int(points) - h + 1)[1:]
    return np.concatenate([lo, hi])


def awards_path(
    claims: Any, rules: str | Sequence[str] = "all", *, points: int = 201, names: Sequence[Any] | None = None
) -> pd.DataFrame:
    """The awards of each rule at `points` estates from 0 to the total claim (batched: one
    compiled call per rule).

    **Returns:** a long DataFrame with columns `rule, estate, name, claim, award` (`name` the
    claimant's label, default its position).
    """
    import pandas as pd

    c, _ = validate_problem(claims, 0.0)
    if names is None:
        names = list(claims.index) if isinstance(claims, pd.Series) else list(range(c.size))
    if len(names) != c.size:
        raise InputError(f"names: {len(names)} names for {c.size} claims")
    Es = estate_grid(float(c.sum()), points)
    Es = np.minimum(Es, c.sum())
    cb = np.tile(c, (Es.size, 1))
    frames = []
    for r in rule_list(rules):
        x = allocate_batch(cb, Es, r, validate=False)
        frames.append(
            pd.DataFrame(
                {
                    "rule": r,
                    "estate": np.repeat(Es, c.size),
                    "name": np.tile(np.asarray(names, dtype=object), Es.size),
                    "claim": np.tile(c, Es.size),
                    "award": x.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def plot_schedules(claims: Any, rule: str = "T", *, points: int = 201, names: Sequence[Any] | None = None) -> Any:
    """Figure: the schedules of awards of one rule (each claimant's award against the estate)."""
    df = awards_path(claims, [rule], points=points, names=names)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for nm, g in df.groupby("name", sort=False):
        ax.plot(g["estate"], g["award"], label=str(nm))
    ax.set_xlabel("estate E")
    ax.set_ylabel("award")
    r = rule_list(rule)[0]
    ax.set_title(f"Schedules of awards: {r} ({RULE_NAMES[r]})")
    if df["name"].nunique() <= 16:
        ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_paths(claims: Any, i: int = 0, j: int = 1, rules: str | Sequence[str] = "all", *, points: int = 201) -> Any:
    """Figure: the paths of awards of the rules for claimants `i` and `j` (award of `i` against
    award of `j` as the estate grows), inside the box `[0, c_i] x [0, c_j]`."""
    c, _ = validate_problem(claims, 0.0)
    for k, nm in ((i, "i"), (j, "j")):
        if not 0 <= int(k) < c.size:
            raise InputError(f"{nm}: claimant index {k} outside 0..{c.size - 1}")
    df = awards_path(c, rules, points=points)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    for r, g in df.groupby("rule", sort=False):
        xi = g.loc[g["name"] == i, "award"].to_numpy()
        xj = g.loc[g["name"] == j, "award"].to_numpy()
        ax.plot(xi, xj, label=str(r))
    ax.plot([0, c[i], c[i]], [0, 0, c[j]], color="grey", lw=0.5)
    ax.set_xlim(0, c[i] * 1.02)
    ax.set_ylim(0, c[j] * 1.02)
    ax.set_xlabel(f"award of claimant {i} (claim {c[i]:g})")
    ax.set_ylabel(f"award of claimant {j} (claim {c[j]:g})")
    ax.set_title("Paths of awards")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_lorenz(claims: Any, estate: Any, rules: str | Sequence[str] = "all") -> Any:
    """Figure: the Lorenz curves of the rules' awards (and of the claims) on one problem."""
    df = lorenz_frame(claims, estate, rules)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.7)
    for r, g in df.groupby("rule", sort=False):
        ax.plot(
            g["share_claimants"],
            g["share_awards"],
            label=f"{r} (Gini {g['gini'].iloc[0]:.3f})",
            ls="--" if r == "claims" else "-",
        )
    ax.set_xlabel("share of claimants (smallest awards first)")
    ax.set_ylabel("share of the estate")
    ax.set_title("Lorenz curves")
    ax.legend(fontsize=7)
    return fig
