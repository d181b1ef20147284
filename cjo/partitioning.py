"""Which partition a keyed record belongs to: Kafka's default partitioner, as pure code.

``partition_of(key, n) == (murmur2(key) & 0x7fffffff) % n``, as the Java client, aiokafka (the
Faust workers) and confluent-kafka's ``murmur2_random`` choose. cjo's inputs must be produced so:
every input topic is co-partitioned by IMSI, and a record elsewhere is refused (see
docs/producer-contract.md).
"""

from __future__ import annotations

import struct

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORDS = struct.Struct("<I")


def murmur2(data: bytes) -> int:
    """Kafka's MurmurHash2 of ``data`` (``org.apache.kafka.common.utils.Utils.murmur2``), as an
    unsigned 32-bit int."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    whole = length - length % 4
    for (word,) in _WORDS.iter_unpack(data[:whole]) if whole else ():
        k = (word * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length - whole
    if tail == 3:
        h ^= data[whole + 2] << 16
    if tail >= 2:
        h ^= data[whole + 1] << 8
    if tail >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` among ``partitions``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
