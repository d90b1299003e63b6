"""Machine description for benchmark reports."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except Exception:
        pass
    import jax

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "load_1min": f"{load:.2f}",
    }


def machine_line() -> str:
    m = machine()
    return (
        f"{m['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}, JAX {m['jax']} ({m['backend']}), "
        f"1-min load average at start {m['load_1min']}"
    )
