"""Options (the choices the paper's summary leaves open) and solver settings of the land-debt model."""

from __future__ import annotations

from landjax.contract import model_options, option


@model_options
class Options:
    """Labour regime, land-servicing variant and investment attraction (defaults: the baseline)."""

    mobility: str = option(
        "immobile",
        ("immobile", "mobile"),
        "the summary's two labour regimes: hukou cost mu -> infinity (N = N_bar), or Frechet location "
        "choice with hukou cost mu",
        "eqs. (4)-(6)",
    )
    variant: str = option(
        "baseline",
        ("baseline", "homothetic"),
        "land-servicing infrastructure k_bar L, or k_bar = 0 (then leverage is equal in both cities)",
        "eqs. (14), (17)",
    )
    attraction: str = option(
        "exogenous",
        ("exogenous", "optimal"),
        "investment-attraction subsidy s given, or chosen by each government (steady states only)",
        "eq. (18)",
    )


@model_options
class Solver:
    """Newton with backtracking on the engine's native backend (steady state and calibration)."""

    tol: float = option(1e-13, "(0, 1)", "relative step tolerance that stops the iteration")
    ftol: float = option(1e-10, "(0, 1)", "converged when the max-norm of the residual is at or below ftol")
    max_steps: int = option(60, "[1, 100000]", "Newton steps (the calibration allows 80)")
    line_search: bool = option(True, (True, False), "backtracking line search on the Newton step")

    def engine_kw(self) -> dict:
        """Keyword arguments of :func:`landjax.engine.solve`."""
        return dict(
            backend="native", line_search=self.line_search, tol=self.tol, ftol=self.ftol, max_steps=self.max_steps
        )
