"""Parameters of the Helpman (1998) economy as set up by Redding & Rossi-Hansberg (2017, section 4)."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from landjax.contract import ParamsBase, model_params, param
from landjax.errors import InputError
from landjax.models.helpman.data import load_draws, side_of


def _draws() -> Any:
    return jax.numpy.asarray(load_draws())


@model_params
class Params(ParamsBase):
    """The paper's parameters (RRH 2017, section 4.1 and Table 1; defaults as printed)."""

    alpha: float = param(0.75, "(0, 1)", "share of goods in expenditure (land: 1 - alpha)", ref="eq. (16)")
    sigma: float = param(5.0, "(1, inf)", "elasticity of substitution between varieties", ref="eq. (17)")
    F: float = param(1.0, "(0, inf)", "fixed cost of a firm, in units of labour", ref="eq. (18)")
    L_total: float = param(153889.0, "(0, inf)", "total labour of the two countries", ref="section 4.1", unit="persons")
    H: float = param(100.0, "(0, inf)", "land per cell", ref="section 4.1", unit="land units")
    dist_elasticity: float = param(0.33, "[0, inf)", "trade costs d = dist^0.33 between cells", ref="section 4.1")
    internal_cost: float = param(2.0, "[1, inf)", "friction multiplying d between any two different cells")
    border_cost: float = param(2.0, "[1, inf)", "further friction between cells of different countries")
    a: Any = param(_draws, None, "log productivity of each cell, column-major grid order", ref="a.csv", shape=(None,))

    def check(self, v: dict[str, np.ndarray]) -> None:
        side_of(int(v["a"].shape[-1]))
        if np.any(v["sigma"] * (1.0 - v["alpha"]) <= 1.0):
            raise InputError(
                "Params.sigma, alpha: sigma (1 - alpha) must exceed 1 (otherwise agglomeration forces dominate "
                "and the equilibrium is not unique/stable, RRH 2017 section 4.1)"
            )


def rrh_params(**changes: Any) -> Params:
    """The paper's parameters with the replication's 900 productivity draws (read from `a.csv`)."""
    return Params(a=_draws(), **changes)
