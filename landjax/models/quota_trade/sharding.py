"""County scale: the N x N migration matrix of eq. (9) split by rows (origins) over devices.

At N = 10,000 cities the matrix `m_od` alone is 800 MB (float64) and each step of the
equilibrium map multiplies it twice (eqs. (9)-(10)): `D = m e` (a product whose rows are
independent) and `L' = m^T (L0 / D)` (a sum over origins). With the rows of `m` placed on
different devices, XLA computes the first product row block by row block and the second as
per-device partial sums added by one all-reduce, so no device holds the whole matrix. Every
other array (length N) is replicated. The solve itself is unchanged: `solve_shock` on a
baseline returned by `shard_rows` runs sharded because the computation follows the placement
of its inputs.

```python
from landjax.models import quota_trade as M
base = M.shard_rows(M.build_baseline("synthetic:0:10000"))   # rows over all local devices
eq = M.solve_shock(base, shock)
```
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from landjax.errors import InputError
from landjax.models.quota_trade.baseline import Baseline

#: the mesh axis over which the rows (origins) of the migration matrix are split
ROWS = "rows"


def shard_rows(baseline: Baseline, devices: Sequence[jax.Device] | int | None = None) -> Baseline:
    """The same baseline with its migration matrix `m` split by rows over `devices`.

    **Arguments:**

    - `baseline`: a `Baseline` (from `build_baseline`).
    - `devices`: the devices (default: all local devices; an int k: the first k). The number of
      cities must be a multiple of their number (an `InputError` says which counts would do).

    **Returns:** a `Baseline` whose `m` carries a `NamedSharding` over a one-axis mesh
    (`"rows"`), every other array replicated on the same devices.
    """
    if not isinstance(baseline, Baseline):
        raise InputError(f"shard_rows: expected a quota_trade Baseline, got {type(baseline).__name__}")
    if devices is None:
        devs = list(jax.devices())
    elif isinstance(devices, int):
        if not 1 <= devices <= len(jax.devices()):
            raise InputError(f"shard_rows: devices={devices}, but {len(jax.devices())} device(s) are available")
        devs = list(jax.devices())[:devices]
    else:
        devs = list(devices)
    if not devs:
        raise InputError("shard_rows: devices is empty")
    n = int(baseline.m.shape[0])
    k = len(devs)
    if n % k:
        ok = [d for d in range(1, len(jax.devices()) + 1) if n % d == 0]
        raise InputError(
            f"shard_rows: N = {n} cities do not split evenly over {k} devices; use a device count dividing N "
            f"(available here: {ok})"
        )
    mesh = Mesh(np.array(devs), (ROWS,))
    replicated = NamedSharding(mesh, PartitionSpec())
    rows = NamedSharding(mesh, PartitionSpec(ROWS, None))
    placed = jax.tree_util.tree_map(lambda a: jax.device_put(a, replicated), baseline)
    return dataclasses.replace(placed, m=jax.device_put(baseline.m, rows))
