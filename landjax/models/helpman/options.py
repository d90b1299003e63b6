"""Options (readings of the paper and its replication) and solver settings of the Helpman model."""

from __future__ import annotations

from landjax.contract import OptionsBase, model_options, option


@model_options
class Options(OptionsBase):
    """Where RRH (2017) and its replication leave a choice; defaults are the replication's reading."""

    productivity: str = option(
        "country_geomean",
        ("country_geomean", "raw"),
        "A = exp(a) divided by its geometric mean within each country (the replication), or the raw draws",
        "section 4.1; a.csv",
    )
    gains: str = option(
        "paper_baseline",
        ("paper_baseline", "none"),
        "report welfare gains against the paper's baseline frictions (internal 2, border 2) or not at all",
        "Table 1",
    )
    welfare: str = option(
        "exact_hat",
        ("exact_hat", "levels"),
        "gains from the exact-hat formula eq. (21) or from the ratio of utility levels (equal at an equilibrium)",
        "eq. (21)",
    )


@model_options
class Solver(OptionsBase):
    """Settings of the fixed-point solve (Anderson acceleration on the damped equilibrium map)."""

    method: str = option("anderson", ("anderson", "picard"), "acceleration of the fixed-point iteration")
    damping: float = option(0.3, "(0, 1]", "mixing of the damped map (the population update is very elastic)")
    memory: int = option(8, "[1, 50]", "Anderson memory (past iterates used)")
    tol: float = option(1e-12, "(0, 1)", "stop when max|g(x) - x| <= tol (1 + max|x|)")
    ftol: float = option(1e-9, "(0, 1)", "converged when max|g(x) - x| <= ftol")
    max_steps: int = option(3000, "[1, 1000000]", "iteration cap")
    tangent: str = option("dense", ("dense", "neumann"), "implicit-differentiation solve: LU of I - dg/dx, or series")
