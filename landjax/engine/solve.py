"""Root finding and fixed points with implicit differentiation.

`solve` finds `y` with `fn(y, args) = 0`; `fixed_point` finds `y = g(y, args)`.
Derivatives of the solution with respect to `args` come from the implicit function theorem
(`dy/dargs = -[df/dy]^{-1} df/dargs`), never from differentiating through the iterations, in
forward and reverse mode (the `jaxopt` backend is reverse-mode only). The optimistix and native
backends both differentiate through `lax.custom_root` with landjax's tangent solvers, which give
NaN (rather than raising, or inventing a derivative) at points where the solve failed.

Backends and methods (`backend=None` picks the first available in this table):

| method | optimistix | jaxopt | native (landjax loops + `lax.custom_root`) |
|---|---|---|---|
| `newton` | `optx.Newton` | `GaussNewton` (Newton when square) | dense/block-tridiagonal Jacobian, backtracking |
| `broyden` | — | `Broyden` | good Broyden, exact initial Jacobian, backtracking |
| `dogleg` | `optx.Dogleg` | — | — |
| `lm` | `optx.LevenbergMarquardt` | `LevenbergMarquardt` | — |
| `picard` | `optx.FixedPointIteration` (damped) | `FixedPointIteration` | damped Picard, dense/Neumann tangents |
| `anderson` | — | `AndersonAcceleration` | Anderson (type II) |

`newton` with `line_search=True` or a non-dense `linear_solver`, and fixed points with
`tangent="neumann"`, always use the native loops. Whatever the backend, convergence is judged
the same way: the returned value is finite and the max-norm of the residual is at most `ftol`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landjax.engine import _native
from landjax.engine._compile import jit_call
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


def _check_settings(what: str, **settings: Any) -> None:
    """Tolerances must be finite and positive, step limits integers >= 1 (InputError otherwise)."""
    for name, v in settings.items():
        if name in ("max_steps", "neumann_steps", "anderson_memory"):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < 1:
                raise InputError(f"{what}: {name} must be an integer >= 1, got {v!r}")
        else:
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{what}: {name} must be a number, got {v!r}") from None
            if not (math.isfinite(fv) and fv > 0):
                raise InputError(f"{what}: {name} must be a finite number > 0, got {v!r}")


def _prepare_y0(y0: Any, what: str) -> Any:
    """`y0` as a pytree of float64 arrays (a scalar, a 1-D array or e.g. a dict of arrays)."""
    leaves, treedef = jax.tree_util.tree_flatten(y0)
    if not leaves:
        raise InputError(f"{what}: y0 is empty (no unknowns)")
    out = []
    single = jax.tree_util.treedef_is_leaf(treedef)
    for k, leaf in enumerate(leaves):
        arr = as_float64(leaf, name=f"{what}: y0" + ("" if single else f" leaf {k}"))
        if not isinstance(arr, jax.core.Tracer):
            a = np.asarray(arr)
            if not np.all(np.isfinite(a)):
                bad = int(np.argmax(~np.isfinite(a.reshape(-1))))
                where = "" if single else f" in leaf {k}"
                raise InputError(f"{what}: initial guess y0 contains NaN or inf (first at index {bad}{where})")
        out.append(arr)
    y0 = jax.tree_util.tree_unflatten(treedef, out)
    if sum(int(np.prod(np.shape(x))) for x in out) == 0:
        raise InputError(f"{what}: y0 has no elements (no unknowns)")
    return y0


def _flat_problem(fn: Callable, y0: Any, args: Any, what: str) -> tuple[jax.Array, Callable, Callable]:
    """Flatten the unknowns: `(y0_flat, f_flat(y, args), unravel)`, checking at trace time that
    `fn` returns the structure and shapes of `y0`."""
    flat, unravel = ravel_pytree(y0)
    try:
        out = jax.eval_shape(lambda y, a: fn(unravel(y), a), flat, args)
    except InputError:
        raise
    except Exception as exc:  # report where the shape problem comes from
        raise InputError(f"{what}: calling the function on y0 failed: {type(exc).__name__}: {exc}") from exc
    want = jax.tree_util.tree_map(lambda x: tuple(np.shape(x)), y0)
    got = jax.tree_util.tree_map(lambda x: tuple(getattr(x, "shape", ())), out)
    same_tree = jax.tree_util.tree_structure(out) == jax.tree_util.tree_structure(y0)  # type: ignore[operator]
    if not same_tree or got != want:
        raise InputError(f"{what}: the function returned shape {got} for y0 of shape {want}; they must match")

    def f(y, a):
        return ravel_pytree(fn(unravel(y), a))[0]

    return flat, f, unravel


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

    # optimistix's step-limit stop is `nonlinear_max_steps_reached` (its `max_steps_reached` is
    # another result, never returned by a root find): code 1 "max steps", not 3 "stalled"
    max_steps = getattr(optx.RESULTS, "nonlinear_max_steps_reached", None) or optx.RESULTS.max_steps_reached
    return jnp.where(result == optx.RESULTS.successful, 0, jnp.where(result == max_steps, 1, 3))


def solve(
    fn: Callable[[Any, Any], Any],
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
    """Solve `fn(y, args) = 0` for `y`, differentiably in `args`.

    **Arguments:**

    - `fn`: residual `fn(y, args) -> array` of the same shape as `y`; pure JAX.
    - `y0`: initial guess (scalar or 1-D). No derivative flows to it.
    - `args`: any pytree of parameters; derivatives of the solution with respect to its array
      leaves use the implicit function theorem.
    - `method`: `"newton"` (default), `"broyden"`, `"dogleg"` or `"lm"`.
    - `backend`: `None` (first available), `"optimistix"`, `"jaxopt"` or `"native"`.
    - `tol`: relative step tolerance that stops the iteration.
    - `ftol`: the max-norm of the residual must end at or below this for `converged`.
    - `max_steps`: iteration cap.
    - `line_search`: backtracking on the residual norm (native Newton/Broyden).
    - `linear_solver`: `"dense"` or `BlockTridiagonal` (native Newton;
      also used for the implicit-differentiation tangent solve).
    - `throw`: raise `ConvergenceError` on failure (default) or return the flags.

    **Returns:** a `Solution`.
    """
    _check_settings("solve", tol=tol, ftol=ftol, max_steps=max_steps)
    if method not in ROOT_METHODS:
        raise InputError(f"solve: unknown method {method!r}; valid methods: {', '.join(ROOT_METHODS)}")
    y0 = _prepare_y0(y0, "solve")
    lin = resolve(linear_solver)
    native_only = (bool(line_search) and method == "newton") or not isinstance(lin, Dense)
    be = _pick_backend(method, backend, native_only)
    config = ("solve", method, be, float(tol), float(ftol), int(max_steps), bool(line_search), lin)

    def impl(y0_tree, a):
        return _solve_impl(fn, y0_tree, a, method, be, float(tol), float(ftol), int(max_steps), bool(line_search), lin)

    sol = jit_call(fn, config, impl, y0, args=args)
    return maybe_throw(sol, throw, f"solve(method={method!r}, backend={be!r})", ftol)


def _solve_impl(fn, y0_tree, args, method, be, tol, ftol, max_steps, line_search, lin) -> Solution:
    """The traced body of `solve` (compiled once per function, configuration and structure)."""
    y0, f, unravel = _flat_problem(fn, y0_tree, args, "solve")

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
            out: Any = optx.root_find(lambda y, _: fc(y), solver, y_init, max_steps=max_steps, throw=False)  # type: ignore[arg-type]
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
    return Solution(unravel(sol.value), sol.converged, sol.residual_norm, sol.steps, sol.code)


def _custom_root(f_closed, y0, loop, lin):
    """Run a native loop under `lax.custom_root` so derivatives use the implicit function theorem."""

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
    g: Callable[[Any, Any], Any],
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
    """Find `y = g(y, args)`, differentiably in `args`.

    **Arguments:**

    - `g`: the map, `g(y, args) -> array` of the shape of `y`; pure JAX.
    - `y0`: initial guess (scalar or 1-D).
    - `method`: `"picard"` (damped: `y <- y + damping (g(y) - y)`) or `"anderson"`.
    - `damping`: in (0, 1]; the mixing parameter for Anderson.
    - `tol`: the iteration stops when `max|g(y) - y| <= tol (1 + max|y|)`.
    - `ftol`: `converged` requires `max|g(y) - y| <= ftol`.
    - `tangent`: `"dense"` (LU of `I - dg/dy`) or `"neumann"` (the series
      `sum_k (dg/dy)^k` until a term is below 1e-16 of the sum, at most `neumann_steps` terms;
      valid for contractions, matrix-free; first derivatives only, as the loop is a `while_loop`).
    - `throw`: raise on failure (default) or return the flags.

    **Returns:** a `Solution` whose `residual_norm` is `max|g(value) - value|`.
    """
    _check_settings(
        "fixed_point",
        tol=tol,
        ftol=ftol,
        max_steps=max_steps,
        neumann_steps=neumann_steps,
        anderson_memory=anderson_memory,
    )
    if method not in FIXED_POINT_METHODS:
        raise InputError(f"fixed_point: unknown method {method!r}; valid methods: {', '.join(FIXED_POINT_METHODS)}")
    try:
        damping_ok = 0.0 < float(damping) <= 1.0
    except (TypeError, ValueError):
        damping_ok = False
    if not damping_ok:
        raise InputError(f"fixed_point: damping must be a number in (0, 1], got {damping!r}")
    if tangent not in ("dense", "neumann"):
        raise InputError(f"fixed_point: tangent must be 'dense' or 'neumann', got {tangent!r}")
    y0 = _prepare_y0(y0, "fixed_point")
    be = _pick_backend(method, backend, native_only=(tangent == "neumann"))
    settings = (
        method,
        be,
        float(damping),
        float(tol),
        float(ftol),
        int(max_steps),
        int(anderson_memory),
        tangent,
        int(neumann_steps),
    )

    def impl(y0_tree, a):
        return _fixed_point_impl(g, y0_tree, a, *settings)

    sol = jit_call(g, ("fixed_point", *settings), impl, y0, args=args)
    return maybe_throw(sol, throw, f"fixed_point(method={method!r}, backend={be!r})", ftol)


def _fixed_point_impl(
    g, y0_tree, args, method, be, damping, tol, ftol, max_steps, anderson_memory, tangent, neumann_steps
) -> Solution:
    """The traced body of `fixed_point` (compiled once per map, configuration and structure)."""
    y0, gg, unravel = _flat_problem(g, y0_tree, args, "fixed_point")

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
            tangent_solve: Any = Dense()
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

            def neumann_solve(flin, b):
                # the while loop cannot be transposed, so reverse mode gets the same series on the
                # transposed map (J_g^T - I) explicitly
                return jax.lax.custom_linear_solve(flin, b, solve=neumann, transpose_solve=neumann)

            tangent_solve = neumann_solve

        y, aux = jax.lax.custom_root(lambda y: gg(y, args) - y, y0, solve_fn, tangent_solve, has_aux=True)
        aux = jax.lax.stop_gradient(aux)
        steps, code = aux[0].astype(jnp.int64), aux[1].astype(jnp.int64)
    elif be == "optimistix":
        import optimistix as optx

        def optx_fp(fc, y_init):  # fc(y) = g(y) - y; iterate the damped map, derivative via custom_root
            out: Any = optx.fixed_point(
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
    return Solution(unravel(sol.value), sol.converged, sol.residual_norm, sol.steps, sol.code)


__all__ = ["solve", "fixed_point", "Solution", "BlockTridiagonal", "Dense", "ROOT_METHODS", "FIXED_POINT_METHODS"]
