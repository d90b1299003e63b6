"""Options (the choices the paper's summary leaves open) and solver settings of the land-debt model."""

from __future__ import annotations

from landjax.contract import OptionsBase, model_options, option


@model_options
class Options(OptionsBase):
    """Labour regime, land-servicing variant and investment attraction (defaults: the baseline)."""

    mobility: str = option(
        default="immobile",
        choices=("immobile", "mobile"),
        why="the summary's two labour regimes: hukou cost mu -> infinity (N = N_bar), or Frechet location "
        "choice with hukou cost mu",
        ref="eqs. (4)-(6)",
    )
    variant: str = option(
        default="baseline",
        choices=("baseline", "homothetic"),
        why="land-servicing infrastructure k_bar L, or k_bar = 0 (then leverage is equal in both cities)",
        ref="eqs. (14), (17)",
    )
    attraction: str = option(
        default="exogenous",
        choices=("exogenous", "optimal"),
        why="investment-attraction subsidy s given, or chosen by each government (steady states only)",
        ref="eq. (18)",
    )


@model_options
class Solver(OptionsBase):
    """Newton with backtracking on the engine's native backend (steady state and calibration)."""

    tol: float = option(default=1e-13, choices="(0, 1)", why="relative step tolerance that stops the iteration")
    ftol: float = option(
        default=1e-10, choices="(0, 1)", why="converged when the max-norm of the residual is at or below ftol"
    )
    max_steps: int = option(default=60, choices="[1, 100000]", why="Newton steps (the calibration allows 80)")
    line_search: bool = option(default=True, choices=(True, False), why="backtracking line search on the Newton step")

    def engine_kw(self) -> dict:
        """Keyword arguments of `landjax.engine.solve`."""
        return dict(
            backend="native", line_search=self.line_search, tol=self.tol, ftol=self.ftol, max_steps=self.max_steps
        )
