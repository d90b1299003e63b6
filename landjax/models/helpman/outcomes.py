"""Reported numbers of the Helpman economy: welfare by country, prices and rents by cell, and
the exact-hat welfare gains of a counterfactual (RRH 2017, eq. (21))."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from landjax.models.helpman.equations import N_COUNTRIES, beta, blocks

COUNTRIES = ("West", "East")


def cell_levels(x: dict[str, jax.Array], args: Any) -> dict[str, jax.Array]:
    """Per cell: wage `w`, population `L`, domestic trade share `pi_nn`, price index `P`
    (eq. 18), land rent `r` (eq. 16) and welfare `V` (eq. 21), with every constant kept."""
    p, _, _ = args
    b = blocks(x, args)
    w, L = jnp.exp(x["log_w"]), jnp.exp(x["log_L"])
    pi_nn = jnp.exp(b["log_pi_nn"])
    A = jnp.exp(b["lA"])
    P = p.sigma / (p.sigma - 1.0) * (L / (p.sigma * p.F * pi_nn)) ** (1.0 / (1.0 - p.sigma)) * w / A
    r = (1.0 - p.alpha) / p.alpha * w * L / p.H
    V = (w / p.alpha) / (P**p.alpha * r ** (1.0 - p.alpha))
    return dict(w=w, L=L, pi_nn=pi_nn, P=P, r=r, V=V)


def _by_country(values: jax.Array, weights: jax.Array, country: jax.Array) -> jax.Array:
    return jax.ops.segment_sum(values * weights, country, N_COUNTRIES) / jax.ops.segment_sum(
        weights, country, N_COUNTRIES
    )


def country_welfare(x: dict[str, jax.Array], args: Any) -> jax.Array:
    """Welfare of each country (West, East): the population-weighted mean of `V_n` over its cells
    (`V_n` is equal across a country's cells at an equilibrium)."""
    lv = cell_levels(x, args)
    return _by_country(lv["V"], lv["L"], args[2][1])


def welfare_gain_hat(x0: dict[str, jax.Array], args0: Any, x1: dict[str, jax.Array], args1: Any) -> jax.Array:
    """Welfare gain (percent) of each country from `x0` to `x1`, exact hat algebra eq. (21):
    `V_hat_n = pi_hat_nn^(-alpha/(sigma - 1)) L_hat_n^(-beta)`, population-weighted over the country's
    cells (equal across them at an equilibrium). Needs the same alpha, sigma, H and productivities."""
    p = args1[0]
    b0, b1 = blocks(x0, args0), blocks(x1, args1)
    log_v = -p.alpha / (p.sigma - 1.0) * (b1["log_pi_nn"] - b0["log_pi_nn"]) - beta(p) * (x1["log_L"] - x0["log_L"])
    return 100.0 * (_by_country(jnp.exp(log_v), jnp.exp(x1["log_L"]), args1[2][1]) - 1.0)


def welfare_gain_levels(x0: dict[str, jax.Array], args0: Any, x1: dict[str, jax.Array], args1: Any) -> jax.Array:
    """The same gain from the ratio of utility levels `V(x1) / V(x0)` (eq. 21 in levels)."""
    return 100.0 * (country_welfare(x1, args1) / country_welfare(x0, args0) - 1.0)


def statistics(x: dict[str, jax.Array], args: Any) -> dict[str, jax.Array]:
    """Summary numbers by country: domestic trade share, population of the largest cell, wage
    dispersion (standard deviation of log wages), mean land rent and price index."""
    country = args[2][1]
    lv = cell_levels(x, args)
    out = {}
    ones = jnp.ones_like(lv["L"])
    for k, name in enumerate(COUNTRIES):
        mask = country == k
        mean_lw = _by_country(x["log_w"], ones, country)[k]
        out[f"domestic_share_{name}"] = _by_country(lv["pi_nn"], lv["L"], country)[k]
        out[f"max_cell_population_{name}"] = jnp.max(jnp.where(mask, lv["L"], 0.0))
        out[f"log_wage_sd_{name}"] = jnp.sqrt(_by_country((x["log_w"] - mean_lw) ** 2, ones, country)[k])
        out[f"mean_land_rent_{name}"] = _by_country(lv["r"], ones, country)[k]
        out[f"mean_price_index_{name}"] = _by_country(lv["P"], ones, country)[k]
    return out
