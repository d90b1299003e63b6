"""Small textbook economies with closed-form solutions.

They exercise the engine in tests, benchmarks and docs; none belongs to a paper.

* `scalar_residual`: `y^3 + y = a`.
* `exchange_residual`: two-consumer, two-good Cobb-Douglas exchange economy, good 2 the
  numeraire; closed form `exchange_price`.
* `armington_residual`: N-country Armington (CES) trade model with endowments, country 1's
  wage the numeraire; closed form `armington_wages` without trade costs. With iceberg trade
  costs `d` it has no closed form (used for backend agreement and finite differences).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landjax._pytree import params_dataclass


def scalar_residual(y: jax.Array, a: jax.Array) -> jax.Array:
    """`y^3 + y - a`; `dy/da = 1 / (3 y^2 + 1)`."""
    return y**3 + y - a


@params_dataclass
class Exchange:
    """Two consumers i = 1, 2: Cobb-Douglas share `alpha[i]` on good 1, endowments `e1[i], e2[i]`."""

    alpha: jax.Array
    e1: jax.Array
    e2: jax.Array


def exchange_residual(log_p1: jax.Array, par: Exchange) -> jax.Array:
    """Excess demand for good 1 (relative to its supply) at price `p1` (`p2 = 1`)."""
    p1 = jnp.exp(log_p1[0])
    income = p1 * par.e1 + par.e2
    demand = jnp.sum(par.alpha * income / p1)
    return jnp.array([demand / jnp.sum(par.e1) - 1.0])


def exchange_price(par: Exchange) -> jax.Array:
    """Closed form: `p1 = sum_i alpha_i e2_i / sum_i (1 - alpha_i) e1_i`."""
    return jnp.sum(par.alpha * par.e2) / jnp.sum((1.0 - par.alpha) * par.e1)


@params_dataclass
class Armington:
    """N countries; `Q` endowments of each country's good, `a` CES weights, `sigma` elasticity,
    `d` iceberg costs (`d[i, j] >= 1` to ship from i to j, ones on the diagonal)."""

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
    """Fixed-point form: `log w_i <- log w_i + log(sales_i / Y_i) / sigma` (a contraction)."""
    return log_w_rest + jnp.log1p(armington_excess(log_w_rest, par)) / par.sigma


def armington_wages(par: Armington) -> jax.Array:
    """Closed form without trade costs: `w_i = (a_i Q_1 / (a_1 Q_i))^{1/sigma}` (log wages 2..N)."""
    return jnp.log(par.a[1:] * par.Q[0] / (par.a[0] * par.Q[1:])) / par.sigma


@params_dataclass
class Geography:
    """An Allen-Arkolakis (2014) / Redding (2016) economic geography with free mobility.

    `N` locations trade CES varieties (one per location) under iceberg costs; workers move
    freely until welfare is equal everywhere.

    **Attributes:**

    - `Abar`: exogenous productivity of each location, shape `(N,)`, positive.
    - `ubar`: exogenous amenity of each location, shape `(N,)`, positive.
    - `tau`: iceberg trade costs `tau[i, j] >= 1` to ship from `i` to `j` (ones on the
      diagonal), shape `(N, N)`; `geography_params` builds them from distances.
    - `sigma`: CES elasticity of substitution (> 1).
    - `alpha`: productivity spillover, `A_i = Abar_i L_i^alpha`.
    - `beta`: amenity spillover (congestion when negative), `u_i = ubar_i L_i^beta`.
    - `Lbar`: total population.
    """

    Abar: jax.Array
    ubar: jax.Array
    tau: jax.Array
    sigma: jax.Array
    alpha: jax.Array
    beta: jax.Array
    Lbar: jax.Array


def geography_unpack(y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Split the unknowns `y = [log w (N), log L (N)]` into wages and populations."""
    n = y.shape[0] // 2
    return jnp.exp(y[:n]), jnp.exp(y[n:])


def geography_price_index(w: jax.Array, L: jax.Array, par: Geography) -> jax.Array:
    """CES price index `P_j = (sum_i (tau_ij w_i / A_i)^(1 - sigma))^(1 / (1 - sigma))`
    (Allen & Arkolakis 2014, eq. 4), with `A_i = Abar_i L_i^alpha`."""
    A = par.Abar * L**par.alpha
    cost = (par.tau * (w / A)[:, None]) ** (1.0 - par.sigma)  # cost[i, j]: i's good delivered in j
    return jnp.sum(cost, axis=0) ** (1.0 / (1.0 - par.sigma))


def geography_residual(y: jax.Array, par: Geography) -> jax.Array:
    """Equilibrium conditions of the geography model, `2N` equations in `y = [log w, log L]`.

    With `A_i = Abar_i L_i^alpha`, `u_i = ubar_i L_i^beta`, `P_j` from
    `geography_price_index` and trade flows
    `X_ij = (tau_ij w_i / A_i)^(1 - sigma) P_j^(sigma - 1) w_j L_j` (gravity, Allen & Arkolakis
    2014, eq. 5):

    * rows `0..N-1`: goods-market clearing, income equals sales,
      `log(sum_j X_ij) - log(w_i L_i) = 0` (eq. 6); by Walras' law one of them is redundant,
      so row 0 is replaced by the numeraire `mean_i log w_i = 0`;
    * rows `N..2N-2`: welfare equalisation, `V_i - mean_j V_j = 0` for `i < N-1` with
      `V_i = log(w_i u_i / P_i)` (eq. 7, free mobility);
    * row `2N-1`: the population adds up, `log(sum_i L_i / Lbar) = 0`.

    Every row is in logs, so the system is well scaled at any size of the economy.

    **Arguments:**

    - `y`: `[log w (N), log L (N)]`.
    - `par`: a `Geography`.

    **Returns:** the `2N` residuals.
    """
    w, L = geography_unpack(y)
    n = w.shape[0]
    A = par.Abar * L**par.alpha
    u = par.ubar * L**par.beta
    cost = (par.tau * (w / A)[:, None]) ** (1.0 - par.sigma)  # (tau_ij w_i / A_i)^(1-sigma)
    P1s = jnp.sum(cost, axis=0)  # P_j^(1-sigma)
    sales = cost @ (w * L / P1s)  # sum_j X_ij
    market = jnp.log(sales) - jnp.log(w * L)
    market = market.at[0].set(jnp.mean(y[:n]))
    V = jnp.log(w * u) - jnp.log(P1s) / (1.0 - par.sigma)
    welfare = (V - jnp.mean(V))[: n - 1]
    pop = jnp.log(jnp.sum(L) / par.Lbar)
    return jnp.concatenate([market, welfare, pop[None]])


def geography_params(
    n: int = 50,
    *,
    seed: int = 0,
    sigma: float = 5.0,
    alpha: float = 0.1,
    beta: float = -0.3,
    distance_elasticity: float = 1.0,
    Lbar: float = 1.0,
) -> Geography:
    """A random geography: `n` locations at uniform random points of the unit square.

    Trade costs `tau_ij = exp(distance_elasticity * ||x_i - x_j||)` (ones on the diagonal),
    log-normal productivities and amenities (standard deviation 0.3). With
    `alpha + beta <= 0` the equilibrium is unique (Allen & Arkolakis 2014, Theorem 2).

    **Arguments:**

    - `n`: number of locations (the model has `2n` unknowns).
    - `seed`: seed of `numpy.random.default_rng`.
    - `sigma`, `alpha`, `beta`, `Lbar`: as in `Geography`.
    - `distance_elasticity`: trade-cost increase per unit distance.

    **Returns:** a `Geography`; solve it from `jnp.zeros(2 * n)` with
    `geography_residual`.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    pts = rng.uniform(0.0, 1.0, (n, 2))
    dist = np.sqrt(np.sum((pts[:, None, :] - pts[None, :, :]) ** 2, axis=-1))
    return Geography(
        Abar=jnp.asarray(np.exp(0.3 * rng.standard_normal(n))),
        ubar=jnp.asarray(np.exp(0.3 * rng.standard_normal(n))),
        tau=jnp.asarray(np.exp(distance_elasticity * dist)),
        sigma=jnp.asarray(float(sigma)),
        alpha=jnp.asarray(float(alpha)),
        beta=jnp.asarray(float(beta)),
        Lbar=jnp.asarray(float(Lbar)),
    )
