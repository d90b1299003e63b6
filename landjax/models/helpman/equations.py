"""The Helpman (1998) equilibrium as in Redding & Rossi-Hansberg (2017, section 4), in logs.

Cells `n, i` of a grid; each belongs to one of two countries; labour moves freely within a
country and not across. With `v_i = L_i (w_i / A_i)^(1 - sigma)` and `T_ni = d_ni^(1 - sigma)`:

* trade shares, eq. (19): `pi_ni = T_ni v_i / D_n`, `D_n = sum_i T_ni v_i` (the number of firms
  `L_i / (sigma F)` and the markup cancel);
* income equals expenditure, eq. (20): `w_i L_i = sum_n pi_ni w_n L_n`;
* price index, eq. (18): `P_n = sigma/(sigma - 1) (L_n / (sigma F pi_nn))^(1/(1 - sigma)) w_n / A_n`;
* land market, eq. (16): `r_n H_n = (1 - alpha) v_n L_n` with income per worker `v_n = w_n / alpha`
  (land rents spent where they are earned);
* welfare, eq. (21): `V_n = v_n / (P_n^alpha r_n^(1 - alpha)) = kappa A_n^alpha H_n^(1 - alpha)
  pi_nn^(-alpha/(sigma - 1)) L_n^(-beta)` with `beta = (sigma (1 - alpha) - 1)/(sigma - 1)`;
  real wages are equalised within each country, `V_n = V_c`, and `sum_{n in c} L_n = L_c`.

The unknowns are `x = (log w, log L)` with `mean(log w) = 0` (the numeraire). `hat_map`
is the equilibrium map: wages from income = expenditure, populations from welfare equalisation
(`L_n proportional to (A_n^alpha H^(1 - alpha) pi_nn^(-alpha/(sigma - 1)))^(1/beta)` within a
country); its fixed points are the equilibria and `residual` is `map - x`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

N_COUNTRIES = 2


def beta(p: Any) -> Any:
    """Elasticity of welfare to population, `(sigma (1 - alpha) - 1)/(sigma - 1)`, eq. (21)."""
    return (p.sigma * (1.0 - p.alpha) - 1.0) / (p.sigma - 1.0)


def log_productivity(p: Any, o: Any, country: jax.Array) -> jax.Array:
    """`log A`: the draws, normalised by their geometric mean within each country (option `productivity`)."""
    a = jnp.asarray(p.a)
    if o.productivity == "raw":
        return a
    mean = jax.ops.segment_sum(a, country, N_COUNTRIES) / jax.ops.segment_sum(jnp.ones_like(a), country, N_COUNTRIES)
    return a - mean[country]


@jax.jit  # elementwise only: the same bits as op by op, one dispatch instead of a dozen per call
def trade_costs(p: Any, dist: jax.Array, country: jax.Array) -> jax.Array:
    """`d_ni = dist^0.33 x internal (n != i) x border (different countries)`; `d_nn = 1` (section 4.1)."""
    off = dist > 0
    d = jnp.where(off, jnp.where(off, dist, 1.0) ** p.dist_elasticity, 1.0)
    d = d * jnp.where(off, p.internal_cost, 1.0)
    return d * jnp.where(country[:, None] != country[None, :], p.border_cost, 1.0)


def labour_by_country(p: Any, country: jax.Array) -> jax.Array:
    """Each country's labour, `L_total` split in proportion to its cells."""
    cells = jax.ops.segment_sum(jnp.ones(country.shape, jnp.float64), country, N_COUNTRIES)
    return p.L_total * cells / jnp.sum(cells)


def blocks(x: dict[str, jax.Array], args: Any) -> dict[str, jax.Array]:
    """Every equilibrium object at `x = {"log_w", "log_L"}`, eqs. (16)-(21)."""
    p, o, geo = args
    dist, country = geo
    lA = log_productivity(p, o, country)
    lw, lL = x["log_w"], x["log_L"]
    T = trade_costs(p, dist, country) ** (1.0 - p.sigma)
    lv = lL + (1.0 - p.sigma) * (lw - lA)
    c = jax.lax.stop_gradient(jnp.max(lv))  # scale for exp (cancels in every ratio)
    v = jnp.exp(lv - c)
    D = T @ v
    wL = jnp.exp(lw + lL)
    income = v * (T.T @ (wL / D))  # sum_n pi_ni w_n L_n, eq. (20)
    log_pi_nn = lv - c - jnp.log(D)  # T_nn = 1
    return dict(lA=lA, T=T, v=v, D=D, income=income, log_pi_nn=log_pi_nn, country=country)


def hat_map(x: dict[str, jax.Array], args: Any) -> dict[str, jax.Array]:
    """The equilibrium map (see the module docstring): new log wages and log populations."""
    p, o, geo = args
    b = blocks(x, args)
    country = b["country"]
    lw_new = jnp.log(b["income"]) - x["log_L"]
    lw_new = lw_new - jnp.mean(lw_new)  # numeraire: mean log wage 0
    lK = p.alpha * b["lA"] + (1.0 - p.alpha) * jnp.log(p.H) - p.alpha / (p.sigma - 1.0) * b["log_pi_nn"]
    z = lK / beta(p)
    zmax = jax.ops.segment_max(z, country, N_COUNTRIES)
    lse = zmax + jnp.log(jax.ops.segment_sum(jnp.exp(z - zmax[country]), country, N_COUNTRIES))
    lL_new = jnp.log(labour_by_country(p, country))[country] + z - lse[country]
    return {"log_w": lw_new, "log_L": lL_new}


def residual(x: dict[str, jax.Array], args: Any) -> dict[str, jax.Array]:
    """`hat_map(x) - x`: zero exactly at an equilibrium (income = expenditure, welfare equal within
    each country, labour adding up, mean log wage 0)."""
    g = hat_map(x, args)
    return {k: g[k] - x[k] for k in x}
