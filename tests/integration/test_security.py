"""A worker with SASL settings: they reach its Kafka clients, and its password no log line.

The embedded broker has no SASL listener, so the worker's SASL handshakes fail and it exits
(``cjo: the broker at ... refused the connection's security settings ...``): what it logged on
the way is what this test reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration

PASSWORD = "pw-Qv27-never-in-a-log"


def test_the_sasl_password_never_appears_in_a_worker_log(
    broker: Broker, unique_prefix: str, tmp_path: Path
) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=1,
                        security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                        sasl_username="cjo-worker", sasl_password=PASSWORD)
    worker = pipeline.start_worker()
    try:
        assert worker.wait_exit(120.0) == 2, worker.log_tail(20)
    finally:
        pipeline.stop()
    text = worker.log_path.read_text(errors="replace")
    assert "SASL PLAIN mechanism handshake failed" in text  # the settings reached librdkafka
    assert "refused the connection's security settings" in text  # one line, the reason
    assert PASSWORD not in text
