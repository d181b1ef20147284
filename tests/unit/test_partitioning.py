"""cjo.partitioning is Kafka's default partitioner: the Java client's test vectors, aiokafka's
and confluent-kafka's murmur2 agree with it."""

from __future__ import annotations

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from confluent_kafka import murmur2 as confluent_partition
from hypothesis import given
from hypothesis import strategies as st

from cjo.partitioning import murmur2, partition_of

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (signed ints in Java)
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_java_client_vectors() -> None:
    for key, signed in JAVA_VECTORS.items():
        assert murmur2(key) == signed & 0xFFFFFFFF, key


@given(st.binary(max_size=64))
def test_same_hash_as_aiokafka(key: bytes) -> None:
    assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=1, max_value=64))
def test_same_partition_as_confluent_murmur2(key: bytes, partitions: int) -> None:
    assert partition_of(key, partitions) == confluent_partition(key, partitions)


def test_imsi_keys_spread_over_every_partition() -> None:
    seen = {partition_of(str(310150000000000 + i).encode(), 6) for i in range(200)}
    assert seen == set(range(6))
