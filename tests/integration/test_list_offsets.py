"""ListOffsets(latest), the end offset faust's changelog recovery asks for
(``AIOKafkaConsumer.end_offsets``, under ``Consumer.highwaters``): true on Apache Kafka, so the
worker uses it there (``CJO_EMBEDDED_BROKER_WORKAROUNDS=false``); wrong on the embedded broker
(the last batch's base offset + 1), where the worker reads end offsets from fetch responses
instead (``streams.exact_offsets``, the demo's default)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka import Producer

from cjo.adapters.broker import Broker, EmbeddedBroker
from cjo.adapters.kafka_admin import create_topics, end_offsets, producer_config

pytestmark = pytest.mark.integration

BATCHES = 5
PER_BATCH = 40


def produce_batches(bootstrap: str, topic: str) -> int:
    """Records in batches of several each (one flush per batch); how many."""
    producer = Producer(producer_config(bootstrap, linger_ms=1000, batch_num_messages=PER_BATCH))
    for batch in range(BATCHES):
        for i in range(PER_BATCH):
            producer.produce(topic, key=b"k", value=f"{batch}-{i}".encode(), partition=0)
        assert producer.flush(30) == 0
    return BATCHES * PER_BATCH


async def list_offsets_latest(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


@pytest.mark.kafka
def test_list_offsets_answers_the_true_end_on_apache_kafka(broker: Broker,
                                                           unique_prefix: str) -> None:
    topic = f"{unique_prefix}.ends"
    create_topics(broker.bootstrap, [topic], 1)
    produced = produce_batches(broker.bootstrap, topic)
    assert asyncio.run(list_offsets_latest(broker.bootstrap, topic)) == produced
    assert end_offsets(broker.bootstrap, [topic]) == {(topic, 0): produced}


def test_list_offsets_is_wrong_on_the_embedded_broker(embedded_broker: EmbeddedBroker,
                                                      unique_prefix: str) -> None:
    """Why the embedded broker keeps its workaround: the end from fetches is right there."""
    topic = f"{unique_prefix}.ends"
    create_topics(embedded_broker.bootstrap, [topic], 1)
    produced = produce_batches(embedded_broker.bootstrap, topic)
    assert asyncio.run(list_offsets_latest(embedded_broker.bootstrap, topic)) < produced
    assert end_offsets(embedded_broker.bootstrap, [topic]) == {(topic, 0): produced}
