"""Small textbook economies with closed-form solutions.

They exercise the engine in tests, benchmarks and docs; none belongs to a paper.

* :func:`scalar_residual`: ``y^3 + y = a``.
* :func:`exchange_residual`: two-consumer, two-good Cobb-Douglas exchange economy, good 2 the
  numeraire; closed form :func:`exchange_price`.
* :func:`armington_residual`: N-country Armington (CES) trade model with endowments, country 1's
  wage the numeraire; closed form :func:`armington_wages` without trade costs. With iceberg trade
  costs ``d`` it has no closed form (used for backend agreement and finite differences).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landjax._pytree import params_dataclass


def scalar_residual(y: jax.Array, a: jax.Array) -> jax.Array:
    """``y^3 + y - a``; ``dy/da = 1 / (3 y^2 + 1)``."""
    return y**3 + y - a


@params_dataclass
class Exchange:
    """Two consumers i = 1, 2: Cobb-Douglas share ``alpha[i]`` on good 1, endowments ``e1[i], e2[i]``."""

    alpha: jax.Array
    e1: jax.Array
    e2: jax.Array


def exchange_residual(log_p1: jax.Array, par: Exchange) -> jax.Array:
    """Excess demand for good 1 (relative to its supply) at price ``p1`` (``p2 = 1``)."""
    p1 = jnp.exp(log_p1[0])
    income = p1 * par.e1 + par.e2
    demand = jnp.sum(par.alpha * income / p1)
    return jnp.array([demand / jnp.sum(par.e1) - 1.0])


def exchange_price(par: Exchange) -> jax.Array:
    """Closed form: ``p1 = sum_i alpha_i e2_i / sum_i (1 - alpha_i) e1_i``."""
    return jnp.sum(par.alpha * par.e2) / jnp.sum((1.0 - par.alpha) * par.e1)


@params_dataclass
class Armington:
    """N countries; ``Q`` endowments of each country's good, ``a`` CES weights, ``sigma`` elasticity,
    ``d`` iceberg costs (``d[i, j] >= 1`` to ship from i to j, ones on the diagonal)."""

    Q: jax.Array
    a: jax.Array
    sigma: jax.Array
    d: jax.Array


def armington_excess(log_w_rest: jax.Array, par: Armington) -> jax.Array:
    """Excess supply of goods 2..N relative to their value (country 1's good dropped by Walras)."""
    w = jnp.concatenate([jnp.ones(1), jnp.exp(log_w_rest)])
    s = par.sigma
    price = w[:, None] * par.d  # price of i's good in j
    P1s = jnp.sum(par.a[:, None] * price ** (1.0 - s), axis=0)  # P_j^{1-sigma}
    Y = w * par.Q
    sales = jnp.sum(par.a[:, None] * price ** (1.0 - s) / P1s[None, :] * Y[None, :], axis=1)
    return (sales / Y - 1.0)[1:]


armington_residual = armington_excess


def armington_map(log_w_rest: jax.Array, par: Armington) -> jax.Array:
    """Fixed-point form: ``log w_i <- log w_i + log(sales_i / Y_i) / sigma`` (a contraction)."""
    return log_w_rest + jnp.log1p(armington_excess(log_w_rest, par)) / par.sigma


def armington_wages(par: Armington) -> jax.Array:
    """Closed form without trade costs: ``w_i = (a_i Q_1 / (a_1 Q_i))^{1/sigma}`` (log wages 2..N)."""
    return jnp.log(par.a[1:] * par.Q[0] / (par.a[0] * par.Q[1:])) / par.sigma
