"""The `Solution` returned by every solver, with status codes and messages."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax._pytree import params_dataclass
from landjax.errors import ConvergenceError

#: status code -> message
MESSAGES = {
    0: "converged",
    1: "maximum number of steps reached before the residual fell below ftol",
    2: "iterate became non-finite (NaN or inf)",
    3: "stalled or diverged: the residual stayed above ftol (singular Jacobian, no root nearby, or backend failure)",
}


@params_dataclass
class Solution:
    """Result of `landjax.engine.solve` / `landjax.engine.fixed_point`.

    A pytree, so it passes through `jit` and `vmap` (then every field has a batch axis).

    **Attributes:**

    - `value`: the root / fixed point, in the structure of `y0` (an array, or e.g. a dict of arrays);
      returned even when not converged: check `converged`.
    - `converged`: `True` iff the value is finite and `residual_norm <= ftol`.
    - `residual_norm`: max-norm of `fn(value, args)` (root) or `g(value, args) - value` (fixed point).
    - `steps`: iterations taken.
    - `code`: 0 converged, 1 max steps, 2 non-finite, 3 stalled (see `MESSAGES`).
    """

    value: Any
    converged: jax.Array
    residual_norm: jax.Array
    steps: jax.Array
    code: jax.Array

    @property
    def message(self) -> str | list[str]:
        """Human-readable status (a list for batched solutions)."""
        code = np.asarray(self.code)
        if code.ndim == 0:
            return MESSAGES.get(int(code), f"unknown status {int(code)}")
        return [MESSAGES.get(int(c), f"unknown status {int(c)}") for c in code.reshape(-1)]

    def value_or_nan(self) -> Any:
        """`value` where converged, NaN elsewhere: the safe thing to feed an outer solver,
        whose line search then backs away from the failed point."""
        conv = jnp.asarray(self.converged)

        def mask(v):
            return jnp.where(conv.reshape(conv.shape + (1,) * (jnp.ndim(v) - conv.ndim)), v, jnp.nan)

        return jax.tree_util.tree_map(mask, self.value)

    def summary(self) -> str:
        conv = np.asarray(self.converged)
        if conv.ndim == 0:
            return (
                f"Solution(converged={bool(conv)}, residual_norm={float(self.residual_norm):.3e}, "
                f"steps={int(self.steps)}, message={self.message!r})"
            )
        return (
            f"Solution(batch={conv.size}, converged={int(conv.sum())}/{conv.size}, "
            f"max residual_norm={float(np.max(np.asarray(self.residual_norm))):.3e})"
        )


def _is_traced(*xs: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for x in xs for leaf in jax.tree_util.tree_leaves(x))


def finalize(y: jax.Array, resid: jax.Array, steps: jax.Array, loop_code: jax.Array, ftol: float) -> Solution:
    """Build a Solution: convergence is judged on the residual, whatever the loop said."""
    res_norm = jnp.max(jnp.abs(resid)) if resid.size else jnp.asarray(0.0, resid.dtype)
    finite = jnp.all(jnp.isfinite(y)) & jnp.isfinite(res_norm)
    ok = finite & (res_norm <= ftol)
    code = jnp.where(~finite, 2, jnp.where(ok, 0, jnp.where(loop_code == 0, 1, loop_code)))
    res_norm = jnp.where(jnp.isfinite(res_norm), res_norm, jnp.inf)
    return Solution(
        value=y,
        converged=ok,
        residual_norm=res_norm,
        steps=jnp.asarray(steps, dtype=jnp.int64),
        code=code.astype(jnp.int64),
    )


def maybe_throw(sol: Solution, throw: bool, what: str, ftol: float) -> Solution:
    """Raise `ConvergenceError` on failure when `throw`.

    A plain call (concrete flags: the engine ran its own compiled program) raises
    `ConvergenceError` with the residual norm and step count. Inside a user's
    own `jax.jit`/`vmap` the flags are traced and no Python exception can be raised there: the
    check is compiled in with `equinox.error_if`, so the failing call raises equinox's runtime
    error (an `EquinoxRuntimeError` carrying this message) when the user's program runs. Use
    `throw=False` inside your own transformations and test `converged`."""
    if not throw:
        return sol
    if _is_traced(sol.converged):
        import equinox as eqx

        value = eqx.error_if(
            sol.value,
            ~jnp.all(sol.converged),
            f"landjax {what}: did not converge (residual above ftol={ftol:g}, max steps, or non-finite iterate). "
            "Call with throw=False to inspect residual_norm, steps and code.",
        )
        return Solution(value, sol.converged, sol.residual_norm, sol.steps, sol.code)
    if not bool(np.all(np.asarray(sol.converged))):
        msg = sol.message if isinstance(sol.message, str) else "; ".join(sorted(set(sol.message)))
        raise ConvergenceError(
            f"landjax {what} did not converge: residual norm {float(np.max(np.asarray(sol.residual_norm))):.3e} "
            f"(ftol {ftol:g}) after {int(np.max(np.asarray(sol.steps)))} steps: {msg}"
        )
    return sol
