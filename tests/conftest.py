"""Shared test configuration: float64 and strict promotion on, progress bars off, the persistent
compilation cache on, golden files, hypothesis profile for CI."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("LANDJAX_PROGRESS", "0")
# compiled programs are shared between the test processes (both pytest-xdist workers, the CLI and
# notebook subprocesses they start) and kept for the next run; enable_compilation_cache makes each
# write atomic (temporary name, then a move), so a reader never sees a half-written entry
os.environ.setdefault("LANDJAX_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".venv" / "jax-cache" / "shared"))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# as in optimistix/equinox: no implicit rank broadcasting, no silent dtype promotion
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")

import landjax  # noqa: E402,F401  (switches float64 on, as users get it)
from landjax.cli import enable_compilation_cache  # noqa: E402

enable_compilation_cache()

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "landjax",
        deadline=None,  # first calls compile with JAX; timing is not what property tests check
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=True,  # the same examples every run: a CI failure can be replayed
    )
    settings.load_profile("landjax")
except ImportError:  # pragma: no cover
    pass


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/<paper>/*.csv from the current code instead of comparing with them",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden"))
