"""A worker's data directory: one worker at a time, and its state kept per Kafka cluster.

``claim`` takes an exclusive lock on ``DIR/cjo-worker.lock`` for the life of the process (the
kernel lets go of it when the process ends, however it ends): a second worker given the same
directory is refused in one line, before it joins the group. Two workers on one directory would
each open the RocksDB databases of the partitions they are given, as faust opens one per
partition, so nothing else stops them; and every rebalance between them moves state for nothing.

The state lives in ``DIR/cluster-<id>``, under the id of the cluster the worker talks to. State
belongs to the topics of one cluster: a worker that kept state for a broker that is gone (the
embedded broker keeps nothing across restarts; a cluster rebuilt) would otherwise find offsets in
its databases that the new changelog never had (faust: "The persisted offset ... is higher than
the last offset in that topic") and die. A new cluster gets a new directory; what other clusters
left is named in one log line, to be removed once they are gone. ``cjo broker`` gives each
embedded broker it starts an id of its own.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cjo.adapters.kafka_admin import cluster_id
from cjo.errors import ConfigError

LOCK_NAME = "cjo-worker.lock"
_held: list[int] = []  # the lock's descriptor, open until the process ends


@dataclass(frozen=True, slots=True)
class Claimed:
    state: Path  # where this worker keeps its RocksDB tables
    cluster: str
    others: tuple[str, ...]  # directories other clusters' workers left in the data directory


def claim(data_dir: Path, bootstrap: str) -> Claimed:
    """Lock ``data_dir`` for this process (ConfigError if another worker has it), then the
    state directory for the cluster at ``bootstrap``."""
    lock(data_dir)
    cluster = cluster_id(bootstrap)
    state = data_dir / f"cluster-{_safe(cluster)}"
    state.mkdir(exist_ok=True)
    others = tuple(sorted(p.name for p in data_dir.glob("cluster-*")
                          if p.is_dir() and p != state))
    return Claimed(state, cluster, others)


def lock(data_dir: Path) -> None:
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise ConfigError(
            f"data directory {data_dir} is in use by another worker (pid {holder or '?'}): "
            f"give each worker of a host its own --data-dir (or CJO_DATA_DIR)") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held.append(fd)


def _safe(cluster: str) -> str:
    """A cluster id as a directory name (Kafka's are base64url already)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", cluster) or "unknown"
