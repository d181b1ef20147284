"""CJO_REPLICATION_FACTOR and CJO_MIN_INSYNC_REPLICAS reach every topic cjo creates, the state
changelog and faust's leader topic included (cjo creates those too), on Apache Kafka; a factor the
brokers cannot meet is one line naming it.

On a single node the only factor that works is 1 (or -1, the brokers' default, which is 1 here),
so the factor itself is shown by the refusal of 3, and min.insync.replicas by the topic configs:
set on each topic, not inherited from the broker.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, ResourceType

from cjo.adapters.broker import Broker
from cjo.adapters.worker_process import WorkerProcess, worker_env
from cjo.cli import main
from cjo.settings import load
from streams.app import internal_topics
from tests.integration.pipeline import READY

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def _topics_of(admin: AdminClient, names: set[str]) -> dict[str, int]:
    """Each of ``names`` that exists -> its replication factor (of partition 0)."""
    found = admin.list_topics(timeout=10).topics
    return {n: len(found[n].partitions[0].replicas) for n in names if n in found}


def test_every_topic_a_worker_creates_has_the_configured_replication(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    settings = load(broker=broker.bootstrap, topic_prefix=unique_prefix,
                    app_id=f"{unique_prefix}-cjo", partitions=2, data_dir=tmp_path / "state",
                    replication_factor=1, min_insync_replicas=1)
    topics = settings.topics
    wanted = {*topics.all(), topics["catalogue"], topics["models"], topics["dnc"],
              topics["learning"], *internal_topics(settings)}
    worker = WorkerProcess(worker_env(settings, log_level="INFO"), tmp_path / "worker.log")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    try:
        worker.start()
        deadline = time.monotonic() + 120
        # faust runs with the topics cjo made (it may not create any): it gets as far as ready
        while READY not in worker.log_path.read_text(errors="replace"):
            assert worker.alive, worker.log_tail()
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.5)
    finally:
        worker.stop()
    factors = _topics_of(admin, wanted)
    assert factors == dict.fromkeys(wanted, 1)
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in sorted(wanted)]
    for resource, future in admin.describe_configs(resources).items():
        configs = future.result()
        entry = configs["min.insync.replicas"]
        assert (entry.value, entry.source) == ("1", ConfigSource.DYNAMIC_TOPIC_CONFIG.value), \
            f"{resource.name}: min.insync.replicas {entry.value} from {entry.source}"
        if resource.name.endswith("-changelog"):  # as faust would have made it
            assert configs["cleanup.policy"].value == "compact"


def test_a_factor_beyond_the_brokers_is_one_line(
        broker: Broker, unique_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CJO_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("CJO_TOPIC_PREFIX", unique_prefix)
    monkeypatch.setenv("CJO_DATA_DIR", str(tmp_path / "state"))
    log = tmp_path / "log.jsonl"
    log.write_text("")
    assert main(["replay", str(log), "--broker", broker.bootstrap]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"cjo: cannot create topic {unique_prefix}.") and \
        "with replication factor 3: " in err and "CJO_REPLICATION_FACTOR must not exceed " \
        "the brokers available" in err, err
    assert "1 broker" in err, err  # the broker's own words: how many there are
