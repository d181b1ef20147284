"""The topics the deployment files create are the topics cjo uses, as cjo would create them:
the compose job's script (run here with a stand-in for kafka-topics.sh that records its calls)
and the Strimzi KafkaTopics."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cjo.settings import Settings
from tests.deploy import manifests as m

Plan = dict[str, tuple[int, str]]  # topic -> (partitions, cleanup policy)


def _expected(partitions: int) -> Plan:
    """What a worker (and the catalogue, models and do-not-contact readers) would create."""
    from cjo.adapters.catalogue_topic import COMPACT as CATALOGUE
    from cjo.adapters.control_topics import COMPACT
    from streams.app import internal_topics

    settings = Settings(partitions=partitions)
    plan: Plan = {t: (partitions, "delete") for t in settings.topics.all()}
    for topic, (count, config) in internal_topics(settings).items():
        plan[topic] = (count, config.get("cleanup.policy", "delete"))
    topics = settings.topics
    plan[topics["catalogue"]] = (1, CATALOGUE["cleanup.policy"])
    for name in ("models", "dnc"):
        plan[topics[name]] = (1, COMPACT["cleanup.policy"])
    plan[topics["learning"]] = (1, "delete")
    return plan


_RECORDER = """#!/bin/bash
echo "$*" >> {log}
"""  # kafka-topics.sh's arguments hold no spaces


def test_the_compose_job_creates_every_topic_as_cjo_would(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    fake = tmp_path / "kafka-topics.sh"
    fake.write_text(_RECORDER.format(log=log))
    fake.chmod(0o755)
    job = m.compose()["services"]["topics"]
    env = {**os.environ, **m.compose_env(job), "KAFKA_TOPICS": str(fake)}
    subprocess.run(["bash", str(m.ROOT / "deploy/compose/create-topics.sh")], env=env,
                   check=True, timeout=30)
    created: Plan = {}
    for line in log.read_text().splitlines():
        argv = line.split()
        if "--create" not in argv:
            continue
        configs = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--config")
        created[argv[argv.index("--topic") + 1]] = (
            int(argv[argv.index("--partitions") + 1]), configs.get("cleanup.policy", "delete"))
        assert argv[argv.index("--bootstrap-server") + 1] == env["BOOTSTRAP"]
    partitions = int(env["PARTITIONS"])
    assert created == _expected(partitions)
    for service in m.compose()["services"].values():  # the workers agree on the count
        assert m.compose_env(service).get("CJO_PARTITIONS", str(partitions)) == str(partitions)


def test_the_strimzi_topics_are_cjo_topics_as_cjo_would_create_them() -> None:
    settings = next(c for c in m.by_kind("ConfigMap") if c["metadata"]["name"] == "cjo-settings")
    partitions = int(settings["data"]["CJO_PARTITIONS"])
    declared: Plan = {}
    for topic in m.by_kind("KafkaTopic"):
        spec = topic["spec"]
        declared[spec.get("topicName", topic["metadata"]["name"])] = (
            spec["partitions"], spec.get("config", {}).get("cleanup.policy", "delete"))
    expected = _expected(partitions)
    # the data contract recommends the latest profile per subscriber, compacted, on a cluster
    subscribers = Settings().topics["subscribers"]
    expected[subscribers] = (expected[subscribers][0], "compact")
    assert declared == expected
    (cluster,) = m.by_kind("Kafka")
    (pool,) = m.by_kind("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
    for topic in m.by_kind("KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
        assert topic["spec"]["replicas"] <= pool["spec"]["replicas"]
        assert (int(topic["spec"]["config"]["min.insync.replicas"])
                < topic["spec"]["replicas"])  # one broker may be down (a rolling restart)
    assert settings["data"]["CJO_BROKER"].startswith(
        f"{cluster['metadata']['name']}-kafka-bootstrap:")
