"""Calibration: choose parameters so that model moments hit targets.

Exactly identified problems (as many parameters as targets) are solved as one root problem;
over-identified ones by (weighted) least squares. Bounds are handled by a smooth
reparametrisation (logistic between two bounds, exponential with one). When targets cannot be
hit, the result says so (`exact=False`) and carries the best moments reached.

Moments are compared in relative terms, `(m - t) / max(|t|, 1)`, so that targets of
different magnitudes weigh alike.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.engine._compile import jit_call
from landjax.engine._native import levenberg_marquardt
from landjax.engine.solve import solve
from landjax.errors import IdentificationWarning, InputError, as_float64

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class CalibrationResult:
    """Outcome of `calibrate`.

    **Attributes:**

    - `params`: calibrated parameters (best found, even when not exact).
    - `moments`: model moments at `params`.
    - `targets`: the targets.
    - `converged`: the solver met its criterion (root found, or least squares stationary).
    - `exact`: every moment within `ftol` (relative) of its target.
    - `residual_norm`: max relative gap `|m - t| / max(|t|, 1)`.
    - `steps`: solver iterations (both phases when the root phase fell back to least squares).
    - `message`: what happened, in words.
    - `names`: parameter names and moment names, when given.
    - `jacobian_rank`: numerical rank of the Jacobian of the (relative) moment gaps with respect
      to the parameters at the result (full rank = number of parameters: locally identified).
    - `singular_values`: its singular values, largest first.
    - `unidentified`: one entry per missing rank: the parameter combination (a direction in
      parameter space) along which the moments do not move, e.g. `"0.707 a + 0.707 b"`.
    """

    params: np.ndarray
    moments: np.ndarray
    targets: np.ndarray
    converged: bool
    exact: bool
    residual_norm: float
    steps: int
    message: str
    param_names: tuple[str, ...] = ()
    moment_names: tuple[str, ...] = ()
    jacobian_rank: int = -1
    singular_values: np.ndarray | None = None
    unidentified: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per target: target, model, gap (model - target), relative gap."""
        import pandas as pd

        names = list(self.moment_names) or [f"m{i}" for i in range(len(self.targets))]
        return pd.DataFrame(
            {
                "moment": names,
                "target": self.targets,
                "model": self.moments,
                "gap": self.moments - self.targets,
                "rel_gap": (self.moments - self.targets) / np.maximum(np.abs(self.targets), 1.0),
            }
        )


def _bound(value, n, name, fill):
    """A bound as an (n,) array: `None`, a scalar or one value per parameter; NaN is refused."""
    if value is None:
        return np.full(n, fill)
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"calibrate: {name} must be numbers, got {value!r}") from None
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
        raise InputError(f"calibrate: {name} has shape {a.shape}; give a scalar or one value per parameter ({n},)")
    if np.any(np.isnan(a)):
        raise InputError(f"calibrate: {name} holds NaN (use -inf/inf or None for no bound)")
    return np.broadcast_to(a, (n,)).copy()


def _transforms(lower, upper, n):
    lo = _bound(lower, n, "lower", -np.inf)
    hi = _bound(upper, n, "upper", np.inf)
    if np.any(lo >= hi):
        i = int(np.argmax(lo >= hi))
        raise InputError(f"calibrate: lower[{i}]={lo[i]} is not below upper[{i}]={hi[i]}")
    both, lo_only, hi_only = (
        np.isfinite(lo) & np.isfinite(hi),
        np.isfinite(lo) & ~np.isfinite(hi),
        ~np.isfinite(lo) & np.isfinite(hi),
    )
    bounds = (
        jnp.asarray(np.where(np.isfinite(lo), lo, 0.0)),
        jnp.asarray(np.where(np.isfinite(hi), hi, 1.0)),
        jnp.asarray(both),
        jnp.asarray(lo_only),
        jnp.asarray(hi_only),
    )

    def to_z(theta):
        theta = np.asarray(theta, float)
        if np.any((theta <= lo) | (theta >= hi)):
            i = int(np.argmax((theta <= lo) | (theta >= hi)))
            raise InputError(f"calibrate: theta0[{i}]={theta[i]} is not strictly inside ({lo[i]}, {hi[i]})")
        u = np.where(both, (theta - np.where(both, lo, 0)) / np.where(both, hi - lo, 1), 0.5)
        return jnp.asarray(
            np.where(
                both,
                np.log(u / (1 - u)),
                np.where(
                    lo_only,
                    np.log(np.where(lo_only, theta - lo, 1)),
                    np.where(hi_only, np.log(np.where(hi_only, hi - theta, 1)), theta),
                ),
            )
        )

    return bounds, to_z


def _to_theta(z, bounds):
    """Parameters from the unbounded coordinates: logistic between two bounds, exponential with one."""
    lo, hi, both, lo_only, hi_only = bounds
    return jnp.where(
        both,
        lo + (hi - lo) * jax.nn.sigmoid(z),
        jnp.where(lo_only, lo + jnp.exp(z), jnp.where(hi_only, hi - jnp.exp(z), z)),
    )


def _gaps(moments, z, data):
    args, targets, scale, bounds = data
    return (moments(_to_theta(z, bounds), args) - targets) / scale


def _program(moments, k, m, tol, ftol, max_steps, z0, data):
    """The whole calibration as one compiled program: the root phase (exactly identified) and the
    least-squares phase, which starts from the better of `z0` and the root phase's end point."""
    args, targets, scale, bounds, sw = data
    gdata = (args, targets, scale, bounds)

    def gaps(z, d):
        return _gaps(moments, z, d)

    if k == m:
        sol = solve(
            gaps,
            z0,
            gdata,
            method="newton",
            backend="native",
            line_search=True,
            tol=tol,
            ftol=ftol,
            max_steps=max_steps,
            throw=False,
        )
        root_ok = sol.converged
        r0 = jnp.max(jnp.abs(gaps(z0, gdata)))
        better = jnp.all(jnp.isfinite(sol.value)) & (sol.residual_norm < r0)
        z_start = jnp.where(better, sol.value, z0)
        root = (sol.value, sol.converged, sol.steps, sol.code)
    else:
        root_ok = jnp.asarray(False)
        z_start = z0
        root = (z0, jnp.asarray(False), jnp.asarray(0), jnp.asarray(0))

    def ls(zs):
        z, steps, code = levenberg_marquardt(
            lambda zz: sw * gaps(zz, gdata), zs, tol=tol, max_steps=max(4 * max_steps, 200)
        )
        return z, jnp.asarray(steps, jnp.int64), jnp.asarray(code, jnp.int64)

    z_ls, ls_steps, ls_code = jax.lax.cond(
        root_ok, lambda zs: (zs, jnp.asarray(0, jnp.int64), jnp.asarray(0, jnp.int64)), ls, z_start
    )
    return root, (z_ls, ls_steps, ls_code)


def _jacobian(moments, theta, data):
    args, scale = data
    return jax.jacfwd(lambda t: moments(t, args) / scale)(theta)


def identification(J: np.ndarray, names: Sequence[str], rtol: float = 1e-8) -> tuple[int, np.ndarray, tuple[str, ...]]:
    """Numerical rank of a moment Jacobian `J` (moments x parameters), its singular values, and
    each direction of parameter space the moments do not respond to, written as a combination of
    the parameter names (coefficients of the unit null vector; tiny ones dropped)."""
    J = np.asarray(J, dtype=float)
    if not np.all(np.isfinite(J)):
        return -1, np.full(min(J.shape), np.nan), ("the moment Jacobian is not finite at the result",)
    _, sv, vt = np.linalg.svd(J, full_matrices=True)
    smax = float(sv[0]) if sv.size else 0.0
    rank = int(np.sum(sv > rtol * max(smax, 1e-300)))
    k = J.shape[1]
    combos = []
    for row in vt[rank:k]:
        v = row / np.max(np.abs(row))
        v = v / np.linalg.norm(v)
        v = v if v[np.argmax(np.abs(v))] > 0 else -v
        terms = [f"{c:+.3g} {names[i]}" for i, c in enumerate(v) if abs(c) > 1e-3]
        combos.append(" ".join(terms).lstrip("+"))
    return rank, sv, tuple(combos)


def calibrate(
    moments: Callable[[jax.Array, Any], jax.Array],
    theta0: Any,
    targets: Any,
    args: Any = None,
    *,
    lower: Any = None,
    upper: Any = None,
    weights: Any = None,
    tol: float = 1e-10,
    ftol: float = 1e-8,
    max_steps: int = 100,
    param_names: Sequence[str] = (),
    moment_names: Sequence[str] = (),
) -> CalibrationResult:
    """Choose `theta` so that `moments(theta, args)` hits `targets`.

    **Arguments:**

    - `moments`: `moments(theta, args) -> 1-D array`, pure JAX; it may solve an equilibrium
      inside (use `throw=False` there and return `Solution.value_or_nan()`-based moments so a
      failed inner solve is a NaN the outer line search backs away from, not an exception).
    - `theta0`: starting parameters (strictly inside the bounds).
    - `targets`: target moments.
    - `lower`, `upper`: optional bounds (scalars or arrays; `None` = unbounded).
    - `weights`: least-squares weights (over-identified case, and the fallback).
    - `ftol`: relative gap below which a target counts as hit.

    **Returns:** a `CalibrationResult`.
    """
    theta0 = as_float64(theta0, "calibrate: theta0").reshape(-1)
    targets_ = as_float64(targets, "calibrate: targets").reshape(-1)
    k, m = theta0.shape[0], targets_.shape[0]
    if k > m:
        raise InputError(f"calibrate: {k} parameters for {m} targets is under-identified")
    for what, v in (("theta0", theta0), ("targets", targets_)):
        a = np.asarray(v)  # checked in NumPy: no eager JAX operation on the call path
        if not np.all(np.isfinite(a)):
            i = int(np.argmax(~np.isfinite(a)))
            raise InputError(f"calibrate: {what}[{i}] is not finite ({float(a[i])})")
    w = jnp.ones(m) if weights is None else as_float64(weights, "calibrate: weights").reshape(-1)
    wa = np.asarray(w)
    if wa.shape[0] != m or not bool(np.all(np.isfinite(wa) & (wa > 0))):
        raise InputError("calibrate: weights must be positive finite numbers, one per target")
    bounds, to_z = _transforms(lower, upper, k)
    scale = jnp.maximum(jnp.abs(targets_), 1.0)
    z0 = to_z(theta0)
    names = list(param_names) or [f"theta[{i}]" for i in range(k)]
    if param_names and len(param_names) != k:
        raise InputError(f"calibrate: {len(param_names)} param_names for {k} parameters")
    if moment_names and len(moment_names) != m:
        raise InputError(f"calibrate: {len(moment_names)} moment_names for {m} targets")

    m0 = np.asarray(jit_call(moments, ("calibrate.moments",), _moments_at_impl(moments), theta0, args=args))
    if m0.shape != (m,):
        raise InputError(f"calibrate: moments returned shape {m0.shape}, expected ({m},) to match targets")

    # identification at the start: a direction the moments do not respond to makes the exactly
    # identified Newton system singular; say so instead of letting Newton produce non-finite steps
    J0 = np.asarray(jit_call(moments, ("calibrate.jacobian",), _jacobian_impl(moments), theta0, args=(args, scale)))
    rank0, _, combos0 = identification(J0, names)
    k_eff = k if rank0 == k else -1  # rank-deficient at the start: go straight to least squares
    sw = jnp.sqrt(w)
    config = ("calibrate", k_eff, m, float(tol), float(ftol), int(max_steps))
    root, (z_ls, ls_steps, ls_code) = jit_call(
        moments,
        config,
        _program_impl(moments, k_eff, m, float(tol), float(ftol), int(max_steps)),
        z0,
        args=(args, targets_, scale, bounds, sw),
    )
    z_root, root_conv, root_steps, root_code = root
    steps = int(root_steps) + int(ls_steps)
    message = ""
    if rank0 >= 0 and rank0 < k:
        message = (
            f"not identified at the start: the moment Jacobian has rank {rank0} < {k} parameters "
            f"(moments do not move along {'; '.join(combos0)}); used least squares. "
        )
    if k == m and k_eff == k:
        if bool(root_conv):
            converged = True
            z_best = z_root
            message += f"exactly identified: root found in {int(root_steps)} Newton steps"
        else:
            from landjax.engine._solution import MESSAGES

            message += (
                f"exactly identified, but the root search failed ({MESSAGES.get(int(root_code), 'failed')}); "
                "fell back to least squares. "
            )
    if not (k == m and k_eff == k and bool(root_conv)):
        z_best = z_ls
        converged = int(ls_code) == 0
        message += "least squares " + ("converged" if converged else "stopped at max steps")

    theta = np.asarray(_to_theta(jnp.asarray(z_best), bounds))
    mom = np.asarray(
        jit_call(moments, ("calibrate.moments",), _moments_at_impl(moments), jnp.asarray(theta), args=args)
    )
    rel = np.abs(mom - np.asarray(targets_)) / np.asarray(scale)
    rel_inf = np.where(np.isfinite(rel), rel, np.inf)  # a non-finite moment is the worst possible gap
    if not np.all(np.isfinite(mom)) or not np.all(np.isfinite(theta)):
        converged = False  # a fit whose moments are not finite is no answer, whatever the loop said
        message += "; NOT converged: the moments are not finite at the result"
    exact = bool(np.all(np.isfinite(rel)) and np.max(rel) <= ftol)
    if k < m and exact:
        message += "; over-identified targets all hit"
    elif not exact:
        worst = int(np.argmax(rel_inf))
        name = moment_names[worst] if moment_names else f"moment {worst}"
        message += f"; targets NOT all hit: worst relative gap {rel_inf[worst]:.3e} at {name}"
    J = np.asarray(
        jit_call(moments, ("calibrate.jacobian",), _jacobian_impl(moments), jnp.asarray(theta), args=(args, scale))
    )
    rank, sv, combos = identification(J, names)
    if rank >= 0 and rank < k:
        message += (
            f"; NOT IDENTIFIED: the moment Jacobian has rank {rank} < {k} at the result; the moments do not "
            f"respond to {'; '.join(combos)}"
        )
        warnings.warn(
            f"calibrate: parameters not identified: rank {rank} < {k}; the moments do not respond to "
            + "; ".join(combos),
            IdentificationWarning,
            stacklevel=2,
        )
    return CalibrationResult(
        params=theta,
        moments=mom,
        targets=np.asarray(targets_),
        converged=converged,
        exact=exact,
        residual_norm=float(np.max(rel_inf)) if rel_inf.size else 0.0,
        steps=steps,
        message=message,
        param_names=tuple(param_names),
        moment_names=tuple(moment_names),
        jacobian_rank=rank,
        singular_values=sv,
        unidentified=combos,
    )


def _moments_at_impl(moments):
    return lambda theta, a: moments(theta, a)


def _jacobian_impl(moments):
    return lambda theta, d: _jacobian(moments, theta, d)


def _program_impl(moments, k, m, tol, ftol, max_steps):
    return lambda z0, d: _program(moments, k, m, tol, ftol, max_steps, z0, d)
