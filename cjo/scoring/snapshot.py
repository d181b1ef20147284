"""The wire format of a scorer snapshot: a format header, then a pickle.

A learner publishes snapshots, workers load them. The header names the format and its version,
so a worker refuses anything else (a truncated record, another producer's bytes, a future format)
with a ``SnapshotError`` instead of unpickling it. Pickle executes code on load: snapshots must
come only from the project's own learner over a trusted models topic.
"""

from __future__ import annotations

import pickle
from typing import Any

from cjo.errors import CjoError

MAGIC = b"CJO-SCORER/"
VERSION = 1
HEADER = MAGIC + str(VERSION).encode() + b"\n"


class SnapshotError(CjoError):
    """Bytes that are not a scorer snapshot this version can load."""


def dump(obj: Any) -> bytes:
    return HEADER + pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def load(data: bytes) -> Any:
    if not data.startswith(MAGIC):
        raise SnapshotError(f"not a scorer snapshot: expected the header {HEADER!r}, "
                            f"got {bytes(data[:len(HEADER)])!r}")
    if not data.startswith(HEADER):
        found = bytes(data[: data.find(b"\n", 0, 40) + 1 or 40])
        raise SnapshotError(f"unsupported scorer snapshot format {found!r}: this version reads "
                            f"{HEADER!r} only (upgrade the worker or republish the model)")
    try:
        return pickle.loads(data[len(HEADER):])  # trusted learner only: see above
    except Exception as exc:  # a corrupt pickle raises almost anything
        raise SnapshotError(f"corrupt scorer snapshot: {type(exc).__name__}: {exc}") from exc
