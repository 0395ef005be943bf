"""ECIES key wrap: the conversation key, encrypted to one participant's identity key.

- `kit.wrap.ecies`: `wrap`, `unwrap`, `wrap_many`, `wrap_steps` (the steps, for a lesson), on one core;
- `kit.wrap.workers`: `wrap_all`, which hands a large roster's share to helper processes on the
  other cores (and its knobs, `kit.wrap.workers.PARALLEL_MIN` and `kit.wrap.workers.WORKERS`).

Every name below is importable from `kit.wrap`, as before the split.
"""

from __future__ import annotations

from kit.wrap.ecies import WRAPPED_KEY_SIZE, WrapSteps, unwrap, wrap, wrap_many, wrap_steps
from kit.wrap.workers import wrap_all

__all__ = ["WRAPPED_KEY_SIZE", "WrapSteps", "unwrap", "wrap", "wrap_all", "wrap_many", "wrap_steps"]
