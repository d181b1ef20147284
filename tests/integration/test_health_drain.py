"""The worker's web server is on: /readyz says 200 once it has recovered and owns its partitions,
/livez says 200 while it runs; on SIGTERM it drains: /readyz turns 503 ("draining") while
/livez stays 200, input stops, what it processed is committed, it leaves the group and exits 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from tests.integration.http_client import free_port, get_json, wait_until
from tests.integration.pipeline import Pipeline, simulated_log

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def test_ready_live_then_drain_on_sigterm(broker: Broker, unique_prefix: str,
                                          tmp_path: Path) -> None:
    port = free_port()
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2,
                        web_port=port, drain_delay_s=3.0)
    base = f"http://127.0.0.1:{port}"
    worker = pipeline.start_worker()
    try:
        wait_until("/readyz 200", lambda: get_json(f"{base}/readyz")[0] == 200, 90,
                   worker.log_tail)
        assert get_json(f"{base}/livez") == (200, {"status": "ok", "reason": "ok"})
        pipeline.replay(simulated_log(tmp_path / "log.jsonl", 20, 1, 5))
        pipeline.wait(timeout_s=120)
        worker.terminate()
        # draining: not ready any more, still alive, still answering
        wait_until("/readyz 503 draining",
                   lambda: get_json(f"{base}/readyz") == (503, {"status": "not_ready",
                                                                "reason": "draining"}),
                   20, worker.log_tail)
        assert get_json(f"{base}/livez")[0] == 200
        code = worker.wait_exit(60)
    finally:
        worker.kill()
    assert code == 0, worker.log_tail()
    text = worker.log_path.read_text()
    assert '"uncommitted": 0, "event": "drained"' in text, worker.log_tail()
    assert pipeline.consumed() == sum(pipeline.end_offsets.values())
