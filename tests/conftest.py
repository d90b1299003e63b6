"""Shared test configuration: float64 on, progress bars off, hypothesis profile for CI."""

import os

os.environ.setdefault("LANDJAX_PROGRESS", "0")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import landjax  # noqa: E402,F401  (switches float64 on, as users get it)

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "landjax",
        deadline=None,  # first calls compile with JAX; timing is not what property tests check
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,  # the same examples every run: a CI failure can be replayed
    )
    settings.load_profile("landjax")
except ImportError:  # pragma: no cover
    pass
