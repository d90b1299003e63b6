"""The readings of the Cheng & Liu (2021) paper's ambiguities (the model's ambiguity register) and
the solver settings. Every default is the printed-equations reading."""

from __future__ import annotations

from landjax.contract import OptionsBase, model_options, option
from landjax.errors import InputError


@model_options
class Options(OptionsBase):
    """Readings of the paper's ambiguities; defaults = the printed equations."""

    numeraire: str = option(
        "p_a", ("p_a",), "the agricultural good is the numeraire (p_a = 1; A_a = 1 is a default)", "eq. (1)"
    )
    closure: str = option(
        "ag",
        ("ag", "nonag", "rebate_u"),
        "7 equations for 6 unknowns: impose the agricultural market (22), the non-agricultural market (23), "
        "or rebate the (1-mu) stock-rent leak to urban natives",
        "eqs. (13), (22)-(23)",
    )
    rratio: str = option(
        "net", ("net", "gross"), "Table 2's R_ratio is R_u/((1-tau_n) R_n) (appendix) or R_u/R_n (main text)", "Table 2"
    )
    yratio: str = option("value", ("value", "qty"), "Y_ratio = p_n Y_n / (p_a Y_a) or Y_n / Y_a", "Table 2")
    loss: str = option(
        "sub",
        ("sub", "div", "shift"),
        "a migrant's capital is h - phi, h / phi, or h - phi with hbar a threshold on h - phi (as the code does)",
        "eq. (10)",
    )
    Eu: str = option(
        "post", ("post", "pre"), "E_u h averages migrants' capital after (h - phi) or before the loss", "eq. (4)"
    )
    Omega: str = option("sum", ("sum", "one"), "total land = sum of Table 1's stocks (0.703) or 1", "eqs. (17)-(21)")
    lr: str = option("post", ("post", "pre"), "rural utility (6) uses l'_r of eq. (21) or the initial l_r", "eq. (6)")
    rural_inc: str = option(
        "full", ("full", "wage"), "rural income includes the farmland rent R_a l'_a or only the wage", "eq. (2)"
    )
    theta: str = option("goods", ("goods", "swap"), "theta = 0.83 is the goods share (text) or housing's", "eq. (6)")
    bounds: str = option(
        "corrected",
        ("corrected",),
        "integration bounds read as natives h_low..inf, stayers h_low..hbar, migrants hbar..inf (printed bounds "
        "have typos)",
        "section IV",
    )
    left_behind: str = option(
        "paper",
        ("paper",),
        "a migrant's l_r stays in Omega_r, (1-omega_a) l_a is redistributed, compensation on the initial l_a, l_0",
        "eqs. (12), (20)-(21)",
    )
    welfare: str = option("sum", ("sum",), "total welfare TU = the literal sum of cardinal utilities", "section V.2")
    share_target: str = option(
        "printed", ("printed", "annual"), "migrant-share target 0.2744 as printed, or 0.02744 per year", "Table 2"
    )
    table4: str = option("both", ("both",), "Table 4 optima computed one at a time and jointly", "Table 4")
    y_target: str = option(
        "data", ("data", "model"), "Y_ratio target 10.3826 (data column) or 10.3774 (model column)", "Table 2"
    )
    stocks: str = option(
        "rounded",
        ("rounded", "data"),
        "Table 1's rounded urban stocks (0.003 each) or the data's S = 0.00622",
        "Table 1",
    )


@model_options
class Solver(OptionsBase):
    """Settings of the six-equation Newton solve (after the reduced-form bracketing)."""

    method: str = option("newton", ("newton", "broyden"), "root finder of the six-equation system")
    tol: float = option(1e-12, "(0, 1)", "step tolerance")
    ftol: float = option(1e-9, "(0, 1)", "residual tolerance (max-norm) for convergence")
    max_steps: int = option(50, "[1, 100000]", "iteration cap")


#: option name -> (allowed values, one-line reason), from the registry (kept for older code)
OPTION_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    i.name: (tuple(i.choices), i.why)  # type: ignore[arg-type]
    for i in Options.registry()
}


def make_options(**kw: str) -> Options:
    """`Options` with named overrides; unknown names raise `InputError` listing valid ones."""
    bad = [k for k in kw if k not in OPTION_CHOICES]
    if bad:
        raise InputError(f"unknown option(s) {', '.join(bad)}; valid options: {', '.join(OPTION_CHOICES)}")
    return Options(**kw)
