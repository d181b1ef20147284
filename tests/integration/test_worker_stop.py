"""A worker stops within seconds of SIGTERM (Kubernetes sends it on every rolling restart),
having committed what it processed, in live mode (ticks flowing) as in replay mode."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from sim import simulate, write_log
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration

STOP_BOUND_S = 10.0


@pytest.mark.parametrize("time_mode", ["live", "replay"])
def test_sigterm_stops_the_worker_within_seconds(broker: Broker, unique_prefix: str,
                                                 tmp_path: Path, time_mode: str) -> None:
    log = tmp_path / "stop.jsonl"
    with log.open("w") as out:
        write_log(simulate(subscribers=30, days=1, seed=3), out)
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4,
                        time_mode=time_mode)
    worker = pipeline.start_worker()
    try:
        pipeline.replay(log)
        pipeline.wait(timeout_s=180)
        time.sleep(3)  # a few ticks on every partition, as in a running deployment
        assert worker._proc is not None
        began = time.monotonic()
        worker._proc.send_signal(signal.SIGTERM)
        code = worker._proc.wait(timeout=60)
        took = time.monotonic() - began
    finally:
        worker.kill()
    assert took < STOP_BOUND_S, f"the worker took {took:.1f}s to stop:\n{worker.log_tail()}"
    assert code == 0, worker.log_tail()
    # what it processed stays committed: a new worker has nothing to read again
    assert pipeline.consumed() == sum(pipeline.end_offsets.values())
