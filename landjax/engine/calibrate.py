"""Calibration: choose parameters so that model moments hit targets.

Exactly identified problems (as many parameters as targets) are solved as one root problem;
over-identified ones by (weighted) least squares. Bounds are handled by a smooth
reparametrisation (logistic between two bounds, exponential with one). When targets cannot be
hit, the result says so (``exact=False``) and carries the best moments reached.

Moments are compared in relative terms, ``(m - t) / max(|t|, 1)``, so that targets of
different magnitudes weigh alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from landjax.engine.solve import solve
from landjax.errors import InputError, as_float64


@dataclasses.dataclass(frozen=True)
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes:
        params: calibrated parameters (best found, even when not exact).
        moments: model moments at ``params``.
        targets: the targets.
        converged: the solver met its criterion (root found, or least squares stationary).
        exact: every moment within ``ftol`` (relative) of its target.
        residual_norm: max relative gap ``|m - t| / max(|t|, 1)``.
        steps: solver iterations (both phases when the root phase fell back to least squares).
        message: what happened, in words.
        names: parameter names and moment names, when given.
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

    def to_frame(self) -> pd.DataFrame:
        """One row per target: target, model, gap (model - target), relative gap."""
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

    def params_dict(self) -> dict[str, float]:
        names = list(self.param_names) or [f"p{i}" for i in range(len(self.params))]
        return {n: float(v) for n, v in zip(names, self.params, strict=False)}


def _transforms(lower, upper, n):
    lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,)).copy()
    hi = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,)).copy()
    if np.any(lo >= hi):
        i = int(np.argmax(lo >= hi))
        raise InputError(f"calibrate: lower[{i}]={lo[i]} is not below upper[{i}]={hi[i]}")
    both, lo_only, hi_only = (
        np.isfinite(lo) & np.isfinite(hi),
        np.isfinite(lo) & ~np.isfinite(hi),
        ~np.isfinite(lo) & np.isfinite(hi),
    )
    lo_j, hi_j = jnp.asarray(np.where(np.isfinite(lo), lo, 0.0)), jnp.asarray(np.where(np.isfinite(hi), hi, 1.0))

    def to_theta(z):
        return jnp.where(
            both,
            lo_j + (hi_j - lo_j) * jax.nn.sigmoid(z),
            jnp.where(lo_only, lo_j + jnp.exp(z), jnp.where(hi_only, hi_j - jnp.exp(z), z)),
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

    return to_theta, to_z


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
    """Choose ``theta`` so that ``moments(theta, args)`` hits ``targets``.

    **Arguments:**

    - `moments`: ``moments(theta, args) -> 1-D array``, pure JAX; it may solve an equilibrium
      inside (use ``throw=False`` there and return ``Solution.value_or_nan()``-based moments so a
      failed inner solve is a NaN the outer line search backs away from, not an exception).
    - `theta0`: starting parameters (strictly inside the bounds).
    - `targets`: target moments.
    - `lower`, `upper`: optional bounds (scalars or arrays; ``None`` = unbounded).
    - `weights`: least-squares weights (over-identified case, and the fallback).
    - `ftol`: relative gap below which a target counts as hit.

    **Returns:** a :class:`CalibrationResult`.
    """
    theta0 = as_float64(theta0, "calibrate: theta0").reshape(-1)
    targets_ = as_float64(targets, "calibrate: targets").reshape(-1)
    k, m = theta0.shape[0], targets_.shape[0]
    if k > m:
        raise InputError(f"calibrate: {k} parameters for {m} targets is under-identified")
    w = jnp.ones(m) if weights is None else as_float64(weights, "calibrate: weights").reshape(-1)
    if w.shape[0] != m or bool(jnp.any(w <= 0)):
        raise InputError("calibrate: weights must be positive, one per target")
    to_theta, to_z = _transforms(lower, upper, k)
    scale = jnp.maximum(jnp.abs(targets_), 1.0)
    z0 = to_z(theta0)

    def gaps(z, a):
        return (moments(to_theta(z), a) - targets_) / scale

    m0 = np.asarray(moments(theta0, args))
    if m0.shape != (m,):
        raise InputError(f"calibrate: moments returned shape {m0.shape}, expected ({m},) to match targets")

    steps = 0
    converged = False
    message = ""
    z_best = z0
    if k == m:
        sol = solve(
            gaps,
            z0,
            args,
            method="newton",
            backend="native",
            line_search=True,
            tol=tol,
            ftol=ftol,
            max_steps=max_steps,
            throw=False,
        )
        steps += int(sol.steps)
        if bool(sol.converged):
            z_best, converged = sol.value, True
            message = f"exactly identified: root found in {int(sol.steps)} Newton steps"
        else:
            message = f"exactly identified, but the root search failed ({sol.message}); fell back to least squares. "
            if np.all(np.isfinite(np.asarray(sol.value))):
                z0 = sol.value if float(sol.residual_norm) < float(jnp.max(jnp.abs(gaps(z0, args)))) else z0
    if not converged:
        from landjax.engine._native import levenberg_marquardt

        sw = jnp.sqrt(w)
        z_ls, ls_steps, ls_code = jax.jit(
            lambda z, a: levenberg_marquardt(lambda zz: sw * gaps(zz, a), z, tol=tol, max_steps=max(4 * max_steps, 200))
        )(z0, args)
        steps += int(ls_steps)
        z_best = z_ls
        converged = int(ls_code) == 0
        message += "least squares " + ("converged" if converged else "stopped at max steps")

    theta = np.asarray(to_theta(z_best))
    mom = np.asarray(moments(jnp.asarray(theta), args))
    rel = np.abs(mom - np.asarray(targets_)) / np.asarray(scale)
    rel_inf = np.where(np.isfinite(rel), rel, np.inf)  # a non-finite moment is the worst possible gap
    exact = bool(np.all(np.isfinite(rel)) and np.max(rel) <= ftol)
    if k < m and exact:
        message += "; over-identified targets all hit"
    elif not exact:
        worst = int(np.argmax(rel_inf))
        name = moment_names[worst] if moment_names else f"moment {worst}"
        message += f"; targets NOT all hit: worst relative gap {rel_inf[worst]:.3e} at {name}"
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
    )
