"""The reported statistics of the quota-trade model (Ma & Ni Tables 1-4) and diagnostics."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax import stats as S
from landjax.errors import InputError
from landjax.models.quota_trade.baseline import Baseline, Shock
from landjax.models.quota_trade.equations import Equilibrium, safe_div

STATISTICS = ("gdp_change", "output_gap_change", "welfare_change", "welfare_gap_change")

#: A baseline gap at most this large counts as no gap: the cities are equal (up to rounding) in
#: output per worker (or welfare), and the relative change of their gap is undefined. The gap
#: measures are dimensionless (scale-free), so one absolute threshold serves them all; rounding
#: noise between identical cities is about 1e-16.
GAP_THRESHOLD = 1e-12


def no_change(shock: Shock) -> jax.Array:
    """True when the shock changes nothing (every land hat 1, no quota money, no migration-cost
    change): the baseline itself solves the hat system exactly, so every change is exactly zero."""
    same = jnp.all(shock.RY_hat == 1.0) & jnp.all(shock.RH_hat == 1.0) & jnp.all(shock.f == 0.0)
    if shock.c_hat is not None:
        same = same & jnp.all(jnp.asarray(shock.c_hat) == 1.0)
    return same


def _exact_zero(v: jax.Array, same: jax.Array) -> jax.Array:
    """`v` with its value set to exactly 0 where `same` (rounding noise of the iteration), its
    derivative kept (the value minus its own stop-gradient has the derivative of `v`)."""
    return jnp.where(same, v - jax.lax.stop_gradient(v), v)


def gap_ratio(new: jax.Array, old: jax.Array) -> jax.Array:
    """`new / old - 1` for two gaps; NaN (reported as null, flagged undefined) where the baseline
    gap `old` is at most `GAP_THRESHOLD`."""
    return safe_div(new, old, GAP_THRESHOLD, fill=jnp.nan) - 1.0


def check_statistics_options(gap: str, gdp: str, welfare: str, welfare_gap: str) -> None:
    if gap not in S.GAP_MEASURES:
        raise InputError(f"statistics: gap={gap!r}; choose one of: {', '.join(S.GAP_MEASURES)}")
    if gdp not in ("goods", "real_housing"):
        raise InputError(f"statistics: gdp={gdp!r}; allowed: goods, real_housing")
    if welfare not in ("levels", "hats", "geometric"):
        raise InputError(f"statistics: welfare={welfare!r}; allowed: levels, hats, geometric")
    if welfare_gap not in ("origin", "destination"):
        raise InputError(f"statistics: welfare_gap={welfare_gap!r}; allowed: origin, destination")


def baseline_gaps(baseline: Baseline, gap: str = "williamson", welfare_gap: str = "origin") -> dict[str, jax.Array]:
    """The baseline output gap (of Y/L, weights L) and welfare gap (of W_o, weights L0; or of V_d,
    weights L, for `welfare_gap="destination"`)."""
    b = baseline
    w0 = S.gap(b.W, b.L0, gap) if welfare_gap == "origin" else S.gap(b.V, b.L, gap)
    return {"output_gap": S.gap(b.Y / b.L, b.L, gap), "welfare_gap": w0}


def statistics(
    baseline: Baseline,
    shock: Shock,
    eq: Equilibrium,
    gap: str = "williamson",
    *,
    gdp: str = "goods",
    welfare: str = "levels",
    welfare_gap: str = "origin",
) -> dict[str, jax.Array]:
    """The four reported statistics in percent (Ma & Ni Tables 1-4).

    - `gdp_change`: 100 (sum Y' / sum Y - 1), Y from eq. (2); `gdp="real_housing"` adds
      housing at base prices, sum (Y Y-hat + P^h H H-hat) (eq. (7)).
    - `output_gap_change`: 100 (Gap(y', L') / Gap(y, L) - 1), y = Y / L, gap measure `gap`
      (`williamson` default; `cv`, `var_log`, `var_log_w`, `theil`, `gini`).
    - `welfare_change`: 100 (sum lam W W-hat / sum lam W - 1), eq. (11) in levels with
      W_o = V_o m_oo^(-1/kappa); `welfare="hats"`: sum lam W-hat; `"geometric"`: exp(sum lam log W-hat).
    - `welfare_gap_change`: the same gap measure of W_o with fixed weights L0;
      `welfare_gap="destination"`: of V_d with weights L'.

    Values are NaN where the equilibrium did not converge or is infeasible, and the gap changes
    are NaN where the baseline gap is at most `GAP_THRESHOLD` (undefined: see
    `diagnostics`, `output_gap_defined`). A shock that changes nothing gives exactly 0.
    """
    check_statistics_options(gap, gdp, welfare, welfare_gap)
    b = baseline
    Y1 = b.Y * eq.Y_hat
    if gdp == "goods":
        gdp_c = jnp.sum(Y1) / jnp.sum(b.Y) - 1.0
    else:
        gdp_c = jnp.sum(Y1 + b.PhH * eq.H_hat) / jnp.sum(b.Y + b.PhH) - 1.0
    L1 = b.L * eq.L_hat
    g0 = baseline_gaps(b, gap, welfare_gap)
    y1 = (b.Y / b.L) * eq.Y_hat / eq.L_hat
    out_gap = gap_ratio(S.gap(y1, L1, gap), g0["output_gap"])
    if welfare == "levels":
        wel = jnp.sum(b.lam * b.W * eq.W_hat) / jnp.sum(b.lam * b.W) - 1.0
    elif welfare == "hats":
        wel = jnp.sum(b.lam * eq.W_hat) - 1.0
    else:
        wel = jnp.exp(jnp.sum(b.lam * jnp.log(eq.W_hat))) - 1.0
    if welfare_gap == "origin":
        wgap = gap_ratio(S.gap(b.W * eq.W_hat, b.L0, gap), g0["welfare_gap"])
    else:
        wgap = gap_ratio(S.gap(b.V * eq.V_hat, L1, gap), g0["welfare_gap"])
    ok = eq.converged & eq.feasible
    same = no_change(shock)
    out = {"gdp_change": gdp_c, "output_gap_change": out_gap, "welfare_change": wel, "welfare_gap_change": wgap}
    return {k: jnp.where(ok, 100.0 * _exact_zero(v, same), jnp.nan) for k, v in out.items()}


def diagnostics(
    baseline: Baseline, shock: Shock, eq: Equilibrium, *, gap: str = "williamson", welfare_gap: str = "origin"
) -> dict[str, jax.Array]:
    """Sellers, buyers, quota traded (m2), sum of F (yuan; the central government's residual of
    eq. (20)), share of workers relocated (1/2 sum |L' - L| / sum L), whether the gap changes are
    defined (the baseline gap exceeds `GAP_THRESHOLD`), and the solver flags."""
    b = baseline
    dY = b.RY * (shock.RY_hat - 1.0)
    dH = b.RH * (shock.RH_hat - 1.0)
    F = shock.f * b.G
    L1 = b.L * eq.L_hat
    g0 = baseline_gaps(b, gap, welfare_gap)
    return {
        "sellers_productive": jnp.sum(dY < 0),
        "buyers_productive": jnp.sum(dY > 0),
        "sellers_residential": jnp.sum(dH < 0),
        "buyers_residential": jnp.sum(dH > 0),
        "quota_traded_productive_m2": jnp.sum(jnp.maximum(-dY, 0.0)),
        "quota_traded_residential_m2": jnp.sum(jnp.maximum(-dH, 0.0)),
        "sum_F_yuan": jnp.sum(F),
        "sum_F_over_sum_G": jnp.sum(F) / jnp.sum(b.G),
        "max_abs_f": jnp.max(jnp.abs(shock.f)),
        "share_relocated": 0.5 * jnp.sum(jnp.abs(L1 - b.L)) / jnp.sum(b.L),
        "output_gap_defined": g0["output_gap"] > GAP_THRESHOLD,
        "welfare_gap_defined": g0["welfare_gap"] > GAP_THRESHOLD,
        "converged": eq.converged,
        "feasible": eq.feasible,
        "infeasible_cities": jnp.sum(~eq.feasible_city),
        "steps": eq.steps,
        "residual_norm": eq.residual_norm,
    }


def city_table(baseline: Baseline, shock: Shock, eq: Equilibrium, dataset: Any = None):
    """City-level levels and hats as a DataFrame (for `--city-out`)."""

    import pandas as pd

    b = baseline
    df = pd.DataFrame(
        {
            "RY_hat": np.asarray(shock.RY_hat),
            "RH_hat": np.asarray(shock.RH_hat),
            "f": np.asarray(shock.f),
            "tauY": np.asarray(b.tauY),
            "tauH": np.asarray(b.tauH),
            "L_hat": np.asarray(eq.L_hat),
            "Y_hat": np.asarray(eq.Y_hat),
            "w_hat": np.asarray(eq.w_hat),
            "V_hat": np.asarray(eq.V_hat),
            "W_hat": np.asarray(eq.W_hat),
            "Ph_hat": np.asarray(eq.Ph_hat),
            "G_hat": np.asarray(eq.G_hat),
            "A_hat": np.asarray(eq.A_hat),
            "feasible": np.asarray(eq.feasible_city),
        }
    )
    if dataset is not None:
        c = dataset.cities
        df.insert(0, "province", c["province"].to_numpy())
        if "name" in c:
            df.insert(0, "name", c["name"].to_numpy())
        df.insert(0, "city", c["city"].to_numpy())
    return df
