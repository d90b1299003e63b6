"""Errors, warnings and input checks shared by every landjax module.

Rules the whole package follows:

* Bad input raises `InputError` naming the offending field (and the row, file or
  problem where that applies).
* A solver that did not converge either raises `ConvergenceError` (`throw=True`)
  or returns `converged=False` with the residual norm and step count; a NaN is never
  reported as a result.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


class InputError(ValueError):
    """Invalid user input; the message names the field (and row/file where relevant)."""


class FieldNameError(InputError, TypeError):
    """A keyword that names no field of a `Params`/`Options`/`Solver` class (an `InputError`
    that is also the `TypeError` Python raises for an unexpected keyword argument)."""


class ConvergenceError(RuntimeError):
    """A solver failed to converge and the caller asked for an exception (`throw=True`)."""


class DtypeWarning(UserWarning):
    """An input array was converted to float64."""


def as_float64(x: Any, name: str = "input") -> jax.Array:
    """Return `x` as a float64 JAX array.

    Integers and booleans are converted silently (they carry no precision to lose);
    other floating or complex dtypes are converted with a `DtypeWarning` naming
    `name`. Non-numeric input raises `InputError`.
    """
    if isinstance(x, jax.Array):  # already on the device (or traced): no copy, no dispatch
        if x.dtype == jnp.float64:
            return x
        if isinstance(x, jax.core.Tracer) or jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_:
            return x.astype(jnp.float64)
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InputError(f"{name}: cannot be read as a numeric array ({exc})") from exc
    if arr.dtype == np.float64:
        return jnp.asarray(arr)
    if arr.dtype.kind in "biu":
        return jnp.asarray(arr, dtype=jnp.float64)
    if arr.dtype.kind in "fc":
        warnings.warn(
            f"{name}: converting dtype {arr.dtype} to float64 (landjax computes in float64)",
            DtypeWarning,
            stacklevel=3,
        )
        return jnp.asarray(arr.astype(np.float64))
    raise InputError(f"{name}: expected a numeric array, got dtype {arr.dtype}")


class NoEquilibriumError(ConvergenceError):
    """No equilibrium exists for these (valid) inputs; the message says which condition fails.

    Every model raises this one type (with `throw=True`) where the equations have no admissible
    solution, as opposed to a solver that failed to find one (`ConvergenceError`) or input
    that is invalid (`InputError`)."""


class IdentificationWarning(UserWarning):
    """A calibration's moments do not respond to some combination of its parameters (the moment
    Jacobian is rank-deficient): that combination is not identified by the targets."""
