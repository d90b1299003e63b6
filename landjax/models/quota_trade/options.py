"""Options (the readings of the paper's ambiguities) and solver settings of the quota-trade model.

One `Options` gathers what used to be spread over `Params.closure`, the keyword arguments
of `build_baseline` and `statistics`, the scenario options and the allocation rule's price and
tradable-stock choices. The scenario's market, allocation and land type come from its name
(`--scenario inter_all_area_both`), see `Scenario`.
"""

from __future__ import annotations

from landjax.contract import OptionsBase, model_options, option
from landjax.stats import GAP_MEASURES


@model_options
class Options(OptionsBase):
    """Where Ma & Ni leave a choice; each default is the printed-equations reading."""

    closure: str = option(
        "endogenous",
        ("endogenous", "fixed_price"),
        "land revenue after trade: the shadow rent (G-hat = Y-hat + f) or the wedges tau held fixed "
        "(G' = (1+tau^Y) P^ry R^Y' + (1+tau^H) P^rh R^H' + F')",
        "eqs. (4), (15)-(17)",
    )
    labour_split: str = option(
        "data",
        ("data", "model"),
        "goods and housing employment from the data (as the paper) or the model's own split "
        "L^Y = (1 - sigma eta) L, L^H = sigma eta L",
        "eqs. (2), (12)",
    )
    tenure: bool = option(
        False, (False, True), "multiply the productive land price by the 70- over 50-year tenure factor", "eq. (21)"
    )
    land_rate: float = option(0.05, "(0, 1)", "discount rate r of the tenure factor", "eq. (21)")
    gap: str = option(
        "williamson",
        tuple(GAP_MEASURES),
        "the paper says 'gap' without a formula: the dispersion measure of output per worker and welfare",
        "Tables 2-4",
    )
    gdp: str = option(
        "goods",
        ("goods", "real_housing"),
        "GDP as goods output, or goods plus housing at baseline prices",
        "eqs. (2), (7); Tables 2-4",
    )
    welfare: str = option(
        "levels",
        ("levels", "hats", "geometric"),
        "aggregate welfare: sum lam W W-hat over sum lam W, the weighted mean of W-hat, or its geometric mean",
        "eq. (11)",
    )
    welfare_gap: str = option(
        "origin",
        ("origin", "destination"),
        "welfare gap across hukou origins (W_o, weights L0) or across destinations (V_d, weights L')",
        "eqs. (8), (11)",
    )
    share: float = option(
        0.15, "[0, 1)", "share of its tradable stock each seller sells (0.20 in robustness)", "eq. (18)"
    )
    ts: str = option(
        "stock",
        ("stock", "surplus"),
        "the tradable stock TS: the land supply R^k, or the surplus -tau^k R^k of a seller",
        "eq. (18)",
    )
    prices: str = option(
        "given",
        ("given", "balanced"),
        "quota prices: the printed ones (sellers 525, buyers 450/750/1050), or buyer prices scaled so that "
        "quota money sums to zero in each pool",
        "eq. (20)",
    )
    pilot_pool: str = option(
        "nationwide",
        ("nationwide", "pilot_only"),
        "inter-province pilot market: pilot sellers sell to buyers anywhere, or only to pilot buyers",
        "Table 3",
    )
    migration_cut: str = option(
        "none",
        ("none", "intra_pilot", "inter_pilot", "all"),
        "which migration costs fall with the reform (c' = cost_factor c on the affected pairs)",
        "eq. (9); section 5",
    )
    cost_factor: float = option(0.9, "(0, inf)", "c'/c on the pairs of migration_cut", "eq. (9)")


@model_options
class Solver(OptionsBase):
    """Settings of the fixed-point solve on log L-hat (Anderson acceleration of the damped map)."""

    method: str = option(
        "anderson",
        ("anderson", "picard"),
        "acceleration: Anderson converges members that damped Picard needs thousands of steps for",
    )
    damping: float = option(0.7, "(0, 1]", "mixing of the damped map x <- x + damping (g(x) - x)")
    memory: int = option(5, "[1, 50]", "Anderson memory (past iterates used)")
    tol: float = option(1e-13, "(0, 1)", "stop when the step is at most tol (1 + max|x|)")
    ftol: float = option(1e-10, "(0, 1)", "converged when max|g(x) - x| <= ftol")
    max_steps: int = option(1000, "[1, 1000000]", "iteration cap")
    tangent: str = option("dense", ("dense", "neumann"), "implicit-differentiation solve: LU of I - dg/dx, or series")
