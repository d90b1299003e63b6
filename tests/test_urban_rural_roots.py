"""No missed equilibria: the urban_rural root search against a fine scan of the reduced equation.

The reduced form (one equation ``U_m/U_r = 1`` in ``hbar``, eq. (14) with every price of
eqs. (15)-(23) in closed form) is scanned here on a grid 40 times finer than the solver's own,
independently of the solver's bracketing; wherever that scan sees an admissible sign change the
solver must find an equilibrium too (issue: an equilibrium near the edge of the feasible region
was reported as "no interior equilibrium")."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import UR_RANGES

from landjax.models import urban_rural as ur

# the draw of the reliability run that exposed the defect (hbar = 4.284, migrant share 0.118)
EDGE_CASE = dict(
    m=0.06002492171112998,
    phi_r=0.2539217151882485,
    omega_a=0.03460160604409196,
    omega_0=0.01003033619934976,
    alpha=0.22390726212044132,
    phi=2.0074684841041517,
    tau_n=0.8320190919206982,
    mu=0.561784432424576,
)

RANGES = UR_RANGES


def _fine_scan_has_root(p: ur.Params, o: ur.Options, n: int) -> np.ndarray:
    """True where a grid of ``n`` points in t = log(hbar - h_low) over [-12, 9] shows a sign change
    of the reduced equation between two admissible points (batched over the leading axis of p)."""
    t = jnp.linspace(-12.0, 9.0, n)

    def one(pp):
        F, X = jax.vmap(lambda tt: ur.reduced(pp.h_low + jnp.exp(tt), pp, o))(t)
        ok = jnp.isfinite(F) & jnp.all(jnp.isfinite(X), axis=1) & jnp.all(X > 0, axis=1)
        s = jnp.sign(F)
        return jnp.any(ok[:-1] & ok[1:] & (s[:-1] != s[1:]) & (s[:-1] != 0))

    return np.asarray(jax.lax.map(one, p, batch_size=64))


def _draws(n: int, seed: int) -> ur.Params:
    rng = np.random.default_rng(seed)
    cols = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in RANGES.items()}
    return ur.batch_params(ur.Params(), n, **cols)


def test_edge_case_equilibrium_found():
    p = ur.make_params(**EDGE_CASE)
    eq = ur.solve_equilibrium(p)
    assert eq.converged
    assert eq.unknowns["hbar"] == pytest.approx(4.2843, abs=1e-3)
    assert eq.moments["migrant_share"] == pytest.approx(0.118, abs=2e-3)
    # the reduced equation holds there, recomputed outside the solver
    F, _ = ur.reduced(jnp.asarray(eq.unknowns["hbar"]), p, ur.Options())
    assert abs(float(F)) < 1e-8


def _check_draws(n: int, seed: int, fine: int) -> None:
    o = ur.Options()
    pb = _draws(n, seed)
    scan = _fine_scan_has_root(pb, o, fine)
    _, found = jax.jit(jax.vmap(lambda pp: ur.initial_guess(pp, o)))(pb)
    found = np.asarray(found)
    missed = np.flatnonzero(scan & ~found)
    assert scan.sum() > n // 10, "the draws should include many parameter sets with an equilibrium"
    assert missed.size == 0, f"{missed.size} of {int(scan.sum())} equilibria missed, e.g. draw {missed[:5]}"
    # and every found root is a converged equilibrium of the full system
    out = ur.solve_many(pb, o)
    conv = np.asarray(out["converged"])
    assert np.all(conv[found]), f"{int((~conv[found]).sum())} bracketed roots did not converge"


def test_no_missed_equilibria_2000_draws():
    _check_draws(2000, seed=7, fine=241 * 40)


@pytest.mark.long  # 138 s of compute (20,000 x 9,640 scan points): make test-long; 2,000 draws run in make test
def test_no_missed_equilibria_20000_draws():
    _check_draws(20000, seed=8, fine=241 * 40)
