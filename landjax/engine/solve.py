"""Root finding and fixed points with implicit differentiation.

:func:`solve` finds ``y`` with ``fn(y, args) = 0``; :func:`fixed_point` finds ``y = g(y, args)``.
Derivatives of the solution with respect to ``args`` come from the implicit function theorem
(``dy/dargs = -[df/dy]^{-1} df/dargs``), never from differentiating through the iterations, in
forward and reverse mode (the ``jaxopt`` backend is reverse-mode only). The optimistix and native
backends both differentiate through ``lax.custom_root`` with landjax's tangent solvers, which give
NaN (rather than raising, or inventing a derivative) at points where the solve failed.

Backends and methods (``backend=None`` picks the first available in this table):

| method | optimistix | jaxopt | native (landjax loops + ``lax.custom_root``) |
|---|---|---|---|
| ``newton`` | ``optx.Newton`` | ``GaussNewton`` (= Newton on square systems) | dense or block-tridiagonal Jacobian, optional backtracking |
| ``broyden`` | — | ``Broyden`` | good Broyden, exact initial Jacobian, backtracking |
| ``dogleg`` | ``optx.Dogleg`` | — | — |
| ``lm`` | ``optx.LevenbergMarquardt`` | ``LevenbergMarquardt`` | — |
| ``picard`` | ``optx.FixedPointIteration`` on the damped map | ``FixedPointIteration`` | damped Picard, dense or Neumann tangents |
| ``anderson`` | — | ``AndersonAcceleration`` | Anderson (type II) |

``newton`` with ``line_search=True`` or a non-dense ``linear_solver``, and fixed points with
``tangent="neumann"``, always use the native loops. Whatever the backend, convergence is judged
the same way: the returned value is finite and the max-norm of the residual is at most ``ftol``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landjax.engine import _native
from landjax.engine._solution import Solution, finalize, maybe_throw
from landjax.engine.linalg import BlockTridiagonal, Dense, resolve
from landjax.errors import InputError, as_float64

ROOT_METHODS = ("newton", "broyden", "dogleg", "lm")
FIXED_POINT_METHODS = ("picard", "anderson")
BACKENDS = ("optimistix", "jaxopt", "native")

_AVAILABLE = {
    "newton": ("optimistix", "jaxopt", "native"),
    "broyden": ("native", "jaxopt"),
    "dogleg": ("optimistix",),
    "lm": ("optimistix", "jaxopt"),
    "picard": ("optimistix", "jaxopt", "native"),
    "anderson": ("native", "jaxopt"),
}


def _check_inputs(fn: Callable, y0: Any, args: Any, what: str) -> tuple[jax.Array, bool]:
    y0 = as_float64(y0, name=f"{what}: y0")
    scalar = y0.ndim == 0
    if scalar:
        y0 = y0.reshape(1)
    if y0.ndim != 1:
        raise InputError(f"{what}: y0 must be a scalar or a 1-D array, got shape {y0.shape}")
    if not isinstance(y0, jax.core.Tracer) and not bool(np.all(np.isfinite(np.asarray(y0)))):
        bad = int(np.argmax(~np.isfinite(np.asarray(y0))))
        raise InputError(f"{what}: initial guess y0 contains NaN or inf (first at index {bad})")

    def wrapped(y, a):
        return fn(y[0] if scalar else y, a)

    try:
        out = jax.eval_shape(wrapped, y0, args)
    except InputError:
        raise
    except Exception as exc:  # report where the shape problem comes from
        raise InputError(f"{what}: calling the function on y0 failed: {type(exc).__name__}: {exc}") from exc
    out_shape = tuple(getattr(out, "shape", ()))
    want = () if scalar else y0.shape
    if out_shape != want:
        raise InputError(f"{what}: the function returned shape {out_shape} for y0 of shape {want}; they must match")
    return y0, scalar


def _pick_backend(method: str, backend: str | None, native_only: bool) -> str:
    if method not in _AVAILABLE:
        valid = ", ".join(_AVAILABLE)
        raise InputError(f"unknown method {method!r}; valid methods: {valid}")
    if backend is not None and backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    if native_only:
        if backend not in (None, "native"):
            raise InputError(
                f"method {method!r} with line_search/linear_solver/tangent options runs on the native backend only, "
                f"not {backend!r}"
            )
        if "native" not in _AVAILABLE[method]:
            raise InputError(f"method {method!r} has no native implementation; drop line_search/linear_solver")
        return "native"
    if backend is None:
        return _AVAILABLE[method][0]
    if backend not in _AVAILABLE[method]:
        raise InputError(f"backend {backend!r} has no method {method!r}; available: {', '.join(_AVAILABLE[method])}")
    return backend


def _optx_code(result) -> jax.Array:
    import optimistix as optx

    return jnp.where(result == optx.RESULTS.successful, 0, jnp.where(result == optx.RESULTS.max_steps_reached, 1, 3))


def solve(
    fn: Callable[[jax.Array, Any], jax.Array],
    y0: Any,
    args: Any = None,
    *,
    method: str = "newton",
    backend: str | None = None,
    tol: float = 1e-10,
    ftol: float = 1e-8,
    max_steps: int = 100,
    line_search: bool = False,
    linear_solver: Any = "dense",
    throw: bool = True,
) -> Solution:
    """Solve ``fn(y, args) = 0`` for ``y``, differentiably in ``args``.

    **Arguments:**

    - `fn`: residual ``fn(y, args) -> array`` of the same shape as ``y``; pure JAX.
    - `y0`: initial guess (scalar or 1-D). No derivative flows to it.
    - `args`: any pytree of parameters; derivatives of the solution with respect to its array
      leaves use the implicit function theorem.
    - `method`: ``"newton"`` (default), ``"broyden"``, ``"dogleg"`` or ``"lm"``.
    - `backend`: ``None`` (first available), ``"optimistix"``, ``"jaxopt"`` or ``"native"``.
    - `tol`: relative step tolerance that stops the iteration.
    - `ftol`: the max-norm of the residual must end at or below this for ``converged``.
    - `max_steps`: iteration cap.
    - `line_search`: backtracking on the residual norm (native Newton/Broyden).
    - `linear_solver`: ``"dense"`` or :class:`~landjax.engine.linalg.BlockTridiagonal` (native Newton;
      also used for the implicit-differentiation tangent solve).
    - `throw`: raise :class:`~landjax.errors.ConvergenceError` on failure (default) or return the flags.

    **Returns:** a :class:`Solution`.
    """
    y0, scalar = _check_inputs(fn, y0, args, "solve")
    lin = resolve(linear_solver)
    native_only = (line_search and method == "newton") or not isinstance(lin, Dense)
    be = _pick_backend(method, backend, native_only)

    def f(y, a):
        out = fn(y[0] if scalar else y, a)
        return jnp.reshape(out, (-1,))

    if be == "native":
        loop = {
            "newton": lambda fc, y: _native.newton(
                fc, y, tol=tol, ftol=ftol, max_steps=max_steps, linear_solver=lin, line_search=line_search
            ),
            "broyden": lambda fc, y: _native.broyden(
                fc, y, tol=tol, ftol=ftol, max_steps=max_steps, linear_solver=lin, line_search=True
            ),
        }[method]
        y, steps, code = _custom_root(lambda y: f(y, args), y0, loop, lin)
    elif be == "optimistix":
        import optimistix as optx

        solver = {
            "newton": lambda: optx.Newton(rtol=tol, atol=tol),
            "dogleg": lambda: optx.Dogleg(rtol=tol, atol=tol),
            "lm": lambda: optx.LevenbergMarquardt(rtol=tol, atol=tol),
        }[method]()

        def optx_loop(fc, y_init):
            out = optx.root_find(lambda y, _: fc(y), solver, y_init, max_steps=max_steps, throw=False)
            return out.value, out.stats["num_steps"], _optx_code(out.result)

        # optimistix does the iterations; the implicit derivative goes through lax.custom_root with
        # landjax's tangent solve, which returns NaN (never raises) at a point that did not converge
        y, steps, code = _custom_root(lambda y: f(y, args), y0, optx_loop, lin)
    else:  # jaxopt
        import jaxopt

        if method == "newton":
            solver = jaxopt.GaussNewton(residual_fun=f, maxiter=max_steps, tol=tol * 1e-2, implicit_diff=True)
        elif method == "lm":
            solver = jaxopt.LevenbergMarquardt(residual_fun=f, maxiter=max_steps, tol=tol * 1e-2, implicit_diff=True)
        else:
            solver = jaxopt.Broyden(fun=f, maxiter=max_steps, tol=tol * 1e-2, implicit_diff=True)
        out = solver.run(y0, args)
        y, steps = out.params, out.state.iter_num
        code = jnp.where(steps >= max_steps, 1, 0)

    resid = f(jax.lax.stop_gradient(y), jax.lax.stop_gradient(args) if args is not None else None)
    sol = finalize(y, resid, steps, code, ftol)
    if scalar:
        sol = Solution(sol.value[0], sol.converged, sol.residual_norm, sol.steps, sol.code)
    return maybe_throw(sol, throw, f"solve(method={method!r}, backend={be!r})", ftol)


def _custom_root(f_closed, y0, loop, lin):
    """Run a native loop under ``lax.custom_root`` so derivatives use the implicit function theorem."""

    def solve_fn(fc, y_init):
        y, steps, code = loop(fc, y_init)
        # aux rides along as floats: custom_root's JVP rule cannot give integer outputs float0 tangents
        return y, jnp.stack([jnp.asarray(steps, y.dtype), jnp.asarray(code, y.dtype)])

    def tangent_solve(g, b):
        return lin(g, b)

    y, aux = jax.lax.custom_root(f_closed, y0, solve_fn, tangent_solve, has_aux=True)
    aux = jax.lax.stop_gradient(aux)
    return y, aux[0].astype(jnp.int64), aux[1].astype(jnp.int64)


def fixed_point(
    g: Callable[[jax.Array, Any], jax.Array],
    y0: Any,
    args: Any = None,
    *,
    method: str = "picard",
    backend: str | None = None,
    damping: float = 1.0,
    tol: float = 1e-10,
    ftol: float = 1e-8,
    max_steps: int = 500,
    anderson_memory: int = 5,
    tangent: str = "dense",
    neumann_steps: int = 200,
    throw: bool = True,
) -> Solution:
    """Find ``y = g(y, args)``, differentiably in ``args``.

    **Arguments:**

    - `g`: the map, ``g(y, args) -> array`` of the shape of ``y``; pure JAX.
    - `y0`: initial guess (scalar or 1-D).
    - `method`: ``"picard"`` (damped: ``y <- y + damping (g(y) - y)``) or ``"anderson"``.
    - `damping`: in (0, 1]; the mixing parameter for Anderson.
    - `tol`: the iteration stops when ``max|g(y) - y| <= tol (1 + max|y|)``.
    - `ftol`: ``converged`` requires ``max|g(y) - y| <= ftol``.
    - `tangent`: ``"dense"`` (LU of ``I - dg/dy``) or ``"neumann"`` (the series
      ``sum_k (dg/dy)^k`` until a term is below 1e-16 of the sum, at most ``neumann_steps`` terms;
      valid for contractions, matrix-free; first derivatives only, as the loop is a ``while_loop``).
    - `throw`: raise on failure (default) or return the flags.

    **Returns:** a :class:`Solution` whose ``residual_norm`` is ``max|g(value) - value|``.
    """
    y0, scalar = _check_inputs(g, y0, args, "fixed_point")
    if not (0.0 < float(damping) <= 1.0):
        raise InputError(f"fixed_point: damping must be in (0, 1], got {damping}")
    if tangent not in ("dense", "neumann"):
        raise InputError(f"fixed_point: tangent must be 'dense' or 'neumann', got {tangent!r}")
    be = _pick_backend(method, backend, native_only=(tangent == "neumann"))

    def gg(y, a):
        return jnp.reshape(g(y[0] if scalar else y, a), (-1,))

    if be == "native":
        if method == "picard":
            loop = lambda gc, y: _native.picard(gc, y, tol=tol, ftol=ftol, max_steps=max_steps, damping=damping)
        else:
            loop = lambda gc, y: _native.anderson(
                gc, y, tol=tol, ftol=ftol, max_steps=max_steps, damping=damping, memory=anderson_memory
            )

        def solve_fn(fc, y_init):
            y, steps, code = loop(lambda y: fc(y) + y, y_init)
            return y, jnp.stack([jnp.asarray(steps, y.dtype), jnp.asarray(code, y.dtype)])

        if tangent == "dense":
            tangent_solve = Dense()
        else:

            def neumann(flin, b):  # flin = J_g - I; x = -(I - J_g)^{-1} b = -sum_k J_g^k b
                # terms are added until the newest is below 1e-16 of the sum (max-norm) or
                # neumann_steps terms are in: for a contraction with rate r that is about
                # log(1e-16)/log(r) terms (about 25 at r = 0.22), not neumann_steps
                def cond(c):
                    term, acc, k = c
                    small = jnp.max(jnp.abs(term)) <= 1e-16 * jnp.max(jnp.abs(acc))
                    return (k < neumann_steps) & ~small

                def body(c):
                    term, acc, k = c
                    term = flin(term) + term
                    return term, acc + term, k + 1

                _, acc, _ = jax.lax.while_loop(cond, body, (b, b, jnp.asarray(0)))
                return -acc

            def tangent_solve(flin, b):
                # the while loop cannot be transposed, so reverse mode gets the same series on the
                # transposed map (J_g^T - I) explicitly
                return jax.lax.custom_linear_solve(flin, b, solve=neumann, transpose_solve=neumann)

        y, aux = jax.lax.custom_root(lambda y: gg(y, args) - y, y0, solve_fn, tangent_solve, has_aux=True)
        aux = jax.lax.stop_gradient(aux)
        steps, code = aux[0].astype(jnp.int64), aux[1].astype(jnp.int64)
    elif be == "optimistix":
        import optimistix as optx

        def optx_fp(fc, y_init):  # fc(y) = g(y) - y; iterate the damped map, derivative via custom_root
            out = optx.fixed_point(
                lambda y, _: y + damping * fc(y),
                optx.FixedPointIteration(rtol=tol, atol=tol),
                y_init,
                max_steps=max_steps,
                throw=False,
            )
            return out.value, out.stats["num_steps"], _optx_code(out.result)

        y, steps, code = _custom_root(lambda y: gg(y, args) - y, y0, optx_fp, Dense())
    else:
        import jaxopt

        if method == "picard":
            damped = lambda y, a: y + damping * (gg(y, a) - y)
            solver = jaxopt.FixedPointIteration(fixed_point_fun=damped, maxiter=max_steps, tol=tol, implicit_diff=True)
        else:
            solver = jaxopt.AndersonAcceleration(
                fixed_point_fun=gg,
                history_size=anderson_memory,
                beta=damping,
                maxiter=max_steps,
                tol=tol,
                ridge=1e-10,
                implicit_diff=True,
            )
        out = solver.run(y0, args)
        y, steps = out.params, out.state.iter_num
        code = jnp.where(steps >= max_steps, 1, 0)

    ys = jax.lax.stop_gradient(y)
    resid = gg(ys, jax.lax.stop_gradient(args) if args is not None else None) - ys
    sol = finalize(y, resid, steps, code, ftol)
    if scalar:
        sol = Solution(sol.value[0], sol.converged, sol.residual_norm, sol.steps, sol.code)
    return maybe_throw(sol, throw, f"fixed_point(method={method!r}, backend={be!r})", ftol)


__all__ = ["solve", "fixed_point", "Solution", "BlockTridiagonal", "Dense", "ROOT_METHODS", "FIXED_POINT_METHODS"]
