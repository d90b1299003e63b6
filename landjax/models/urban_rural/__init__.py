"""Urban-rural spatial equilibrium with land conversion and land finance (Cheng & Liu 2021).

The model (paper eqs. (1)-(23)):

* rural residents with Pareto human capital `h` farm (eqs. (1)-(2)) or migrate to the city,
  losing `phi` units of capital (eqs. (10)-(12)); the marginal migrant `hbar` is indifferent
  (eq. (14));
* migrants' farmland and unused land are partly converted (`omega_a`, `omega_0`) into rural
  (`phi_r`) and urban construction land, urban land splits into production (`sigma_z`) and
  housing land; migrants get a share `m` of the new land's rent as compensation (eq. (12));
* the government spends stock-land rent (share `mu`), the rest of the new-land rent and
  subsidises production land at rate `tau_n` on public capital `g_u` (eq. (13)).

Six unknowns `(hbar, p_n, R_a, R_n, R_u, g_u)` with `p_a = 1` the numeraire and six
conditions E1-E6 (`landjax.models.urban_rural.equations`). The system is solved in logs with
`landjax.engine.solve` (Newton, implicit differentiation) from an initial guess given by the
model reduced to one equation in `hbar`. Every ambiguity of the paper is a named field of
`Options` (`landjax options urban_rural`); the default of each is the printed equations.

Files: `params.py` (Table 1, validation), `options.py` (the ambiguity register, solver
settings), `equations.py` (the residual and the reduced form), `outcomes.py` (reported
statistics), `solve.py` (solve, batches, the model spec), `calibrate.py` (Table 2),
`policy.py` (comparative statics and optimal policy).
"""

from landjax.models.urban_rural.calibrate import (
    CALIB_LOWER,
    CALIB_NAMES,
    CALIB_UPPER,
    calibrate_reduced,
    calibrate_table2,
    table2_moments,
    targets,
)
from landjax.models.urban_rural.equations import (
    CONDITIONS,
    initial_guess,
    land,
    levels_vector,
    population,
    reduced,
    reduced_engine,
    residual,
    residual_engine,
    residual_levels,
    state,
    to_levels,
    to_logs,
)
from landjax.models.urban_rural.options import OPTION_CHOICES, Options, Solver, make_options
from landjax.models.urban_rural.outcomes import (
    outcomes,
    rural_welfare_integral,
    rural_welfare_integral_2f1,
    sorting_ratios,
)
from landjax.models.urban_rural.params import (
    MOMENTS,
    OUTPUT,
    P_A,
    PARAM_NAMES,
    R_TARGET,
    S_DATA,
    SHARE_TARGET,
    UNKNOWNS,
    WELFARE,
    Y_TARGET,
    Params,
    check_params,
    make_params,
)
from landjax.models.urban_rural.policy import (
    TARGETS,
    classify_shape,
    optimal_policy,
    policy_selectors,
    policy_sweep,
    policy_value,
)
from landjax.models.urban_rural.solve import (
    MODEL,
    POLICY_RANGES,
    SWEEP_COLUMNS,
    Equilibrium,
    SortingWarning,
    batch_params,
    diagnose_no_equilibrium,
    solve,
    solve_batch,
    solve_equilibrium,
    solve_jax,
    solve_many,
    solve_reduced_jax,
    sweep,
    with_values,
)

__all__ = [
    "CALIB_LOWER",
    "CALIB_NAMES",
    "CONDITIONS",
    "levels_vector",
    "CALIB_UPPER",
    "MODEL",
    "MOMENTS",
    "OPTION_CHOICES",
    "OUTPUT",
    "PARAM_NAMES",
    "POLICY_RANGES",
    "P_A",
    "R_TARGET",
    "SHARE_TARGET",
    "SWEEP_COLUMNS",
    "S_DATA",
    "UNKNOWNS",
    "WELFARE",
    "Y_TARGET",
    "Equilibrium",
    "Options",
    "Params",
    "TARGETS",
    "Solver",
    "SortingWarning",
    "batch_params",
    "calibrate_reduced",
    "calibrate_table2",
    "check_params",
    "classify_shape",
    "diagnose_no_equilibrium",
    "initial_guess",
    "land",
    "make_options",
    "make_params",
    "optimal_policy",
    "outcomes",
    "policy_selectors",
    "policy_sweep",
    "policy_value",
    "population",
    "reduced",
    "reduced_engine",
    "residual",
    "residual_engine",
    "residual_levels",
    "rural_welfare_integral",
    "rural_welfare_integral_2f1",
    "solve",
    "solve_batch",
    "solve_equilibrium",
    "solve_jax",
    "solve_many",
    "solve_reduced_jax",
    "sorting_ratios",
    "state",
    "sweep",
    "table2_moments",
    "targets",
    "to_levels",
    "to_logs",
    "with_values",
]

#: the model contract's calibration verb: Table 2 by the engine
calibrate = calibrate_table2
__all__ += ["calibrate"]
