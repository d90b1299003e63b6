"""JAX's persistent compilation cache for landjax: one folder per user, shared by processes.

The command line turns it on at start-up; `import landjax` turns it on when `LANDJAX_CACHE_DIR`
is set in the environment (so a notebook kernel or a script started with it set reuses what the
command line, the tests or another kernel compiled before).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["enable_compilation_cache"]


def _install_atomic_file_cache() -> None:
    """Make JAX's persistent cache write each entry to a temporary name and move it into place.

    JAX's file cache (without a size limit) writes an entry in place, so a process reading it
    while another landjax process (a `sweep --processes K` worker, a second terminal, a pytest
    worker) is still writing it gets truncated bytes. With the write atomic, a reader sees either
    no entry or the whole one. (A size limit would serialise access with a file lock instead, but
    JAX then lists the whole folder on every write.)
    """
    from jax._src import compilation_cache as cc
    from jax._src.lru_cache import _CACHE_SUFFIX, LRUCache

    class AtomicFileCache(LRUCache):
        def put(self, key: str, value: bytes) -> None:
            if not key:
                raise ValueError("key cannot be empty")
            final = Path(self.path) / f"{key}{_CACHE_SUFFIX}"
            if final.exists():
                return
            tmp = final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(value)
            os.replace(tmp, final)

    def get_file_cache(path: str) -> tuple[Any, str] | None:
        return AtomicFileCache(path, max_size=-1), path

    cc.get_file_cache = get_file_cache


def enable_compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache for this process (the CLI does it at start-up).

    The folder is `$LANDJAX_CACHE_DIR` if set (an empty value disables the cache), else
    `$XDG_CACHE_HOME/landjax/jax` (default `~/.cache/landjax/jax`). Several processes may share
    the folder at once: each entry is written to a temporary name and moved into place, so a
    reader never sees a partly written entry. Returns the folder or None.
    """
    path = os.environ.get("LANDJAX_CACHE_DIR")
    if path is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "landjax", "jax")
    if not path:
        return None
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    import jax

    _install_atomic_file_cache()
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
