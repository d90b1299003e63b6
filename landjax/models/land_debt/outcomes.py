"""Reported statistics of the land-debt model: city gaps, leverage and debt ratios, land-finance and
infrastructure dependence, aggregate output and welfare (eq. (20) of `docs/zhao_liu2024.md`), and
the budget and market-clearing accounts, eq. (19)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from landjax.models.land_debt.equations import a_k, indirect_utility, location_shares, named, pack, rates, ss_blocks
from landjax.models.land_debt.options import Options
from landjax.models.land_debt.params import Params


def welfare(V, p: Params, o: Options):
    """Hukou-weighted welfare `sum_o N_bar_o W_o`, eqs. (5), (20).

    With `mobility='mobile'`, `W_o` is the expected utility of hukou group `o` under Frechet
    location tastes with hukou cost `mu`, eq. (5). With `mobility='immobile'` (mu -> infinity)
    every group lives in its own city, so `W_o = V_o` (the own-city utility, eq. (3)) and
    welfare does not depend on `mu` (neither does the steady state)."""
    if o.mobility == "mobile":
        _, W = location_shares(V, p)
    else:
        W = V
    return jnp.sum(p.N_bar * W, axis=-1)


def statistics(y, p: Params, o: Options) -> dict:
    """Every reported statistic of a steady state (flat solver vector `y`), eq. (20); pure JAX,
    differentiable. `landjax solve land_debt --json` reports the subset `KEY_STATS`."""
    q = ss_blocks(y, p, o)
    hs = p.chi / (1.0 + p.chi)
    lev = q["B"] / q["pY"]
    own_rev = p.tau * q["pY"] + q["LR"]
    real_w = q["w"] / q["R"] ** hs
    V = indirect_utility(q["w"], q["R"], p)
    consumption = q["X"] - p.delta_k * jnp.sum(q["K"]) - jnp.sum(q["Ip"] + q["Is"] + q["Gc"]) - p.g_bar
    out = {
        "X": q["X"],
        "output_gap": q["pY"][0] / q["pY"][1],
        "real_output_gap": q["Y"][0] / q["Y"][1],
        "income_gap": (q["pY"][0] / q["N"][0]) / (q["pY"][1] / q["N"][1]),
        "wage_gap": q["w"][0] / q["w"][1],
        "rel_wage2": q["w"][1] / q["w"][0],
        "real_wage_gap": real_w[0] / real_w[1],
        "house_price_gap": q["Ph"][0] / q["Ph"][1],
        "land_mpl_gap": q["rho_f"][0] / q["rho_f"][1],
        "lev1": lev[0],
        "lev2": lev[1],
        "lev_gap": lev[1] - lev[0],
        "rel_lev2": lev[1] / lev[0],
        "debt_ratio1": q["B"][0] / own_rev[0],
        "debt_ratio2": q["B"][1] / own_rev[1],
        "land_dep1": q["LR"][0] / own_rev[0],
        "land_dep2": q["LR"][1] / own_rev[1],
        "infra_dep1": (q["Ip"][0] + q["Is"][0]) / q["pY"][0],
        "infra_dep2": (q["Ip"][1] + q["Is"][1]) / q["pY"][1],
        "consumption": consumption,
        "welfare": welfare(V, p, o),
        "N1": q["N"][0],
        "p1": q["p"][0],
        "p2": q["p"][1],
        "Ph1": q["Ph"][0],
        "Ph2": q["Ph"][1],
        "rho_f1": q["rho_f"][0],
        "rho_f2": q["rho_f"][1],
        "debt_gdp": jnp.sum(q["B"]) / q["X"],
        "pubcap_gdp": jnp.sum(q["Kp"] + q["Ks"]) / q["X"],
        "servicing_share": jnp.sum(q["Ks"]) / jnp.sum(q["Kp"] + q["Ks"]),
        "s1": q["s"][0],
        "s2": q["s"][1],
        "eta_over_lambda": 1.0 - p.beta_g * (1.0 + q["r"]) + 0.0 * q["X"],
    }
    return out


def accounts(y, p: Params, o: Options) -> dict:
    """Every budget and market-clearing condition in a steady state, as residuals, eq. (19).

    The savers' consumption is taken from the savers' own budget; the goods-market residual
    then checks Walras' law (it is zero when every other budget and market clears)."""
    q = ss_blocks(y, p, o)
    r, rk = rates(p)
    hs = p.chi / (1.0 + p.chi)
    N = q["N"]
    h = q["Lh"] / N  # housing per worker from the rental market
    c_w = q["w"] - q["R"] * h
    firm_profit = (1.0 - p.tau) * q["pY"] - q["w"] * N - q["rho_f"] * q["Lf"] - (1.0 - q["s"]) * rk * q["K"]
    gov = q["Gc"] + q["Ip"] + q["Is"] + (1.0 + r) * q["B"] + p.g_bar * p.N_bar - (p.tau * q["pY"] + q["LR"] + q["B"])
    Ik = p.delta_k * q["K"]
    # savers: capital income (firms pay (1-s) r^k K, the land discount pays s r^k K through LR),
    # lease rents, debt service; spending: consumption, investment, new leases (LR), new debt
    income = jnp.sum((1.0 - q["s"]) * rk * q["K"] + q["rho_f"] * q["Lf"] + q["R"] * q["Lh"] + (1.0 + r) * q["B"])
    C_sav = income - jnp.sum(Ik + q["LR"] + q["B"])
    goods = q["X"] - (jnp.sum(c_w * N) + C_sav + jnp.sum(Ik) + jnp.sum(q["Ip"] + q["Is"] + q["Gc"] + p.g_bar * p.N_bar))
    return {
        "worker_budget": c_w + q["R"] * h - q["w"],
        "worker_housing_foc": q["R"] * h - hs * q["w"],
        "housing_market": N * h - q["Lh"],
        "labour_market": jnp.sum(N) - 1.0,
        "firm_zero_profit": firm_profit,
        "capital_foc": a_k(p) * (1.0 - p.tau) * q["pY"] / q["K"] - (1.0 - q["s"]) * rk,
        "government_budget": gov,
        "collateral_binding": q["B"] - p.theta_L * q["V"] - p.theta_K * (q["Kp"] + q["Ks"]),
        "nominal_gdp_equals_absorption": jnp.sum(q["pY"]) - q["X"],
        "price_index": jnp.sum(p.omega * q["p"] ** (1.0 - p.sigma)) - 1.0,
        "goods_market_walras": goods,
        "saver_consumption": C_sav,
        "private_consumption_identity": (jnp.sum(c_w * N) + C_sav) - statistics(y, p, o)["consumption"],
    }


statistics_jit = jax.jit(statistics)  # loops over many solved states (one compile per options)

#: the statistics reported by ``landjax solve land_debt --json``
KEY_STATS = (
    "X",
    "output_gap",
    "income_gap",
    "real_wage_gap",
    "house_price_gap",
    "lev1",
    "lev2",
    "lev_gap",
    "debt_ratio1",
    "debt_ratio2",
    "land_dep1",
    "land_dep2",
    "infra_dep1",
    "infra_dep2",
    "consumption",
    "welfare",
    "N1",
    "p1",
    "p2",
    "debt_gdp",
    "pubcap_gdp",
    "servicing_share",
    "s1",
    "s2",
)


def steady_state_levels(y, p: Params, o: Options) -> dict[str, jax.Array]:
    """The steady state in levels: `Y`, `Kp`, `Gc`, `N` and `s` per city."""
    q = ss_blocks(y, p, o)
    return {"Y": q["Y"], "Kp": q["Kp"], "Gc": q["Gc"], "N": q["N"], "s": q["s"]}


def outcomes(unknowns: dict[str, Any], p: Params, o: Options) -> dict[str, dict[str, jax.Array]]:
    """The contract's outcomes at named `unknowns` (the coordinates of
    `residual`): `steady_state` (levels per city) and
    `statistics` (`KEY_STATS`), the sections of `landjax solve land_debt --json`."""
    y = pack(unknowns, o)
    st = statistics(y, p, o)
    return {"steady_state": steady_state_levels(y, p, o), "statistics": {k: st[k] for k in KEY_STATS}}


__all__ = ["KEY_STATS", "statistics", "welfare", "accounts", "outcomes", "steady_state_levels", "named"]
