"""Baseline levels of the quota-trade economy (2017) and the policy shock type, eqs. (1)-(17)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass
from landjax.data.china import load_dataset
from landjax.errors import InputError
from landjax.models.quota_trade.params import Params, tenure_factor

REGION_CODES = {"east": 0, "central": 1, "west": 2, "northeast": 3}


@params_dataclass
class Baseline:
    """Baseline (2017) levels derived from a dataset, eqs. (1)-(17). Arrays of length N
    unless noted; `m` is (N, N); scalars are 0-d arrays. Money in yuan, land in m2."""

    L0: jax.Array  # hukou workforce by origin
    m: jax.Array  # migration shares m_od (rows: origins)
    L: jax.Array  # residents L_d = sum_o m_od L0_o, eq. (10)
    LY: jax.Array  # goods employment
    LH: jax.Array  # housing (real-estate) employment
    w: jax.Array  # wage
    Y: jax.Array  # output Y = w LY / alpha, eq. (2)
    RY: jax.Array  # productive land
    RH: jax.Array  # residential land
    Ph: jax.Array  # house price
    GY: jax.Array  # productive land revenue (1+tauY) P^ry RY = (1-alpha) Y, eqs. (3)-(4)
    GH: jax.Array  # residential land revenue (1+tauH) P^rh RH = (1-sigma)/sigma w LH, eqs. (13)-(15)
    G: jax.Array  # infrastructure spending G = GY + GH (F = 0 at baseline), eq. (17)
    tauY: jax.Array  # productive-land wedge, eq. (4)
    tauH: jax.Array  # residential-land wedge, eq. (15)
    A: jax.Array  # TFP, eq. (1)
    Abar: jax.Array  # fundamental TFP from eq. (16)
    V: jax.Array  # real income w / Ph^eta, eq. (8)
    W: jax.Array  # origin welfare V_o m_oo^(-1/kappa) (B = 1; Gamma(1-1/kappa) omitted: it cancels)
    lam: jax.Array  # welfare weights L0 / sum L0, eq. (11)
    PhH: jax.Array  # housing value eta w L, eq. (7)
    buy_price: jax.Array  # quota buyer price r_buy,d
    sell_price: jax.Array  # quota seller price (scalar)
    P_ry: jax.Array  # national productive land price used for tau (scalar; x eq. (21) factor if tenure)
    P_rh: jax.Array  # national residential land price (scalar)
    pilot: jax.Array  # bool: pilot province
    province: jax.Array  # int: province index 0..P-1
    region: jax.Array  # int: 0 east, 1 central, 2 west, 3 northeast

    @property
    def n(self) -> int:
        return int(self.L0.shape[-1])


@params_dataclass
class Shock:
    """A policy shock in hats. `RY_hat`, `RH_hat`: land after / before (eqs. (18)-(19));
    `f`: F'/G (eq. (17); there is no quota money at the baseline, F = 0); `c_hat`: optional
    (N, N) change in migration costs, eq. (9) (None = 1)."""

    RY_hat: jax.Array
    RH_hat: jax.Array
    f: jax.Array
    c_hat: Any = None


def build_baseline(
    dataset: Any = None,
    params: Params | None = None,
    *,
    labour_split: str = "data",
    tenure: bool = False,
    land_rate: float = 0.05,
) -> Baseline:
    """Baseline levels from a dataset, eqs. (1)-(17): Y = w L^Y / alpha (eq. (2)), land revenue
    (1+tau^Y) P^ry R^Y = (1-alpha) Y and (1+tau^H) P^rh R^H = (1-sigma)/sigma w L^H (eqs. (3)-(4),
    (13)-(15)), G = G^Y + G^H (eq. (17)), TFP A from eq. (1) and its fundamental part from eq. (16),
    real income w / P^h^eta (eq. (8)), origin welfare V_o m_oo^(-1/kappa) (eqs. (9)-(11)).

    **Arguments:**

    - `dataset`: a `landjax.data.china.Dataset`, a dataset name or a directory
      (None = the default dataset).
    - `params`: `Params`; tau, G, Y, A and W are re-derived from the same data when they
      change. Differentiable in the parameter leaves.
    - `labour_split`: `"data"` (L^Y, L^H from the data, as the paper) or `"model"`
      (L^Y = (1 - sigma eta) L, L^H = sigma eta L, the model's own split; makes the national goods
      market hold exactly in levels).
    - `tenure`: eq. (21): multiply P^ry by ((1 - (1+r)^-70)/(1 - (1+r)^-50)).
    - `land_rate`: r in eq. (21) (0.05).
    """
    if labour_split not in ("data", "model"):
        raise InputError(f"build_baseline: labour_split={labour_split!r}; allowed: data, model")
    if not isinstance(tenure, (bool, np.bool_)):
        raise InputError(f"build_baseline: tenure={tenure!r}; expected true or false")
    factor = tenure_factor(land_rate)  # validates land_rate in (0, 1) whether or not tenure is on
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise InputError(f"build_baseline: params must be a quota_trade Params, got {type(params).__name__}")
    ds = load_dataset(dataset)
    c = ds.cities
    al, et, ka, si, rh = params.alpha, params.eta, params.kappa, params.sigma, params.rho
    f64 = lambda col: jnp.asarray(c[col].to_numpy(dtype=np.float64))
    L0 = f64("L0")
    m = jnp.asarray(ds.m)
    L = m.T @ L0
    w = f64("w")
    if labour_split == "data":
        LY, LH = f64("LY"), f64("LH")
    else:
        LY, LH = (1.0 - si * et) * L, si * et * L
    RY, RH, Ph = f64("RY"), f64("RH"), f64("Ph")
    Y = w * LY / al
    P_ry = jnp.asarray(float(ds.meta["P_ry"]) * (factor if tenure else 1.0))
    P_rh = jnp.asarray(float(ds.meta["P_rh"]))
    GY = (1.0 - al) * Y
    GH = (1.0 - si) / si * w * LH
    tauY = GY / (P_ry * RY) - 1.0
    tauH = GH / (P_rh * RH) - 1.0
    G = GY + GH
    A = Y / (LY**al * RY ** (1.0 - al))
    Abar = (A / G**rh) ** (1.0 / (1.0 - rh))
    V = w / Ph**et
    W = V * jnp.diag(m) ** (-1.0 / ka)
    provs = {p: i for i, p in enumerate(dict.fromkeys(c["province"].astype(str)))}
    return Baseline(
        L0=L0,
        m=m,
        L=L,
        LY=LY,
        LH=LH,
        w=w,
        Y=Y,
        RY=RY,
        RH=RH,
        Ph=Ph,
        GY=GY,
        GH=GH,
        G=G,
        tauY=tauY,
        tauH=tauH,
        A=A,
        Abar=Abar,
        V=V,
        W=W,
        lam=L0 / jnp.sum(L0),
        PhH=et * w * L,
        buy_price=f64("buy_price"),
        sell_price=jnp.asarray(float(ds.meta["sell_price"])),
        P_ry=P_ry,
        P_rh=P_rh,
        pilot=jnp.asarray(c["pilot"].to_numpy(dtype=bool)),
        province=jnp.asarray(np.array([provs[p] for p in c["province"].astype(str)], dtype=np.int32)),
        region=jnp.asarray(np.array([REGION_CODES[r] for r in c["region"]], dtype=np.int32)),
    )


def zero_shock(baseline: Baseline) -> Shock:
    """No trade: every hat 1, f = 0."""
    one = jnp.ones_like(baseline.L0)
    return Shock(RY_hat=one, RH_hat=one, f=jnp.zeros_like(baseline.L0), c_hat=None)
