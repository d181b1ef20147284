"""Personal data never in clear in the logs of a real worker, nor in the replay's summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cjo import codec
from cjo.adapters.broker import Broker
from tests.integration.pipeline import Pipeline, write_log

pytestmark = pytest.mark.integration

T0 = 1_767_261_600_000
HOME = "23415"


def imsi(n: int) -> str:
    return f"23415{n:010d}"


def msisdn(n: int) -> str:
    return f"4477009{n:05d}"


def email(n: int) -> str:
    return f"subscriber.{n}@mail.example.com"


def profile(n: int, **changes: Any) -> dict[str, Any]:
    value = {"imsi": imsi(n), "msisdn": msisdn(n), "email": email(n), "payment_type": "PREPAID",
             "plan_id": "p1", "language": "en", "timezone": "Europe/London", "home_plmn": HOME,
             "consent": {"sms": True, "email": True, "push": True}, "updated_at": T0}
    value.update(changes)
    return {"topic": "subscribers", "key": imsi(n), "value": value}


def location(n: int, at: int, serving: str) -> dict[str, Any]:
    return {"topic": "location", "key": imsi(n), "value": {
        "event_id": f"l-{n}-{at}", "event_time": at, "imsi": imsi(n), "msisdn": msisdn(n),
        "event_type": "ATTACH", "home_plmn": HOME, "serving_plmn": serving}}


@pytest.fixture
def pipeline(broker: Broker, unique_prefix: str, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2)
    yield p
    p.stop()


def test_no_imsi_msisdn_or_email_in_clear_in_worker_or_replay_output(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    lines: list[Any] = [profile(n) for n in range(1, 5)]
    lines += [location(n, T0 + 60_000 * n, "20801") for n in range(1, 5)]  # roaming: offers
    lines += [
        profile(5, msisdn=int(msisdn(5))),                  # bad type: the reason shows it
        {**location(6, T0, "20801"), "key": imsi(7)},       # key is not value.imsi
        profile(8, email=[email(8)], payment_type="CASH"),  # bad email and enum
        f'{{"topic": "sms", "key": "{imsi(9)}", "value": {{"to": "{email(9)}"}}}}',
    ]
    log = write_log(tmp_path / "personal.jsonl", lines)
    pipeline.start_worker()
    summary = pipeline.replay(log)
    assert summary.bad_lines == 4
    # what only the worker can find wrong: a key that is not the record's imsi, undecodable bytes
    good = codec.encode("LocationEvent", location(10, T0, "20801")["value"])
    pipeline.produce_raw("location", imsi(11).encode(), good)
    pipeline.produce_raw("charging", imsi(12).encode(), f"{msisdn(12)} {email(12)}".encode())
    pipeline.wait()
    pipeline.stop()

    worker_log = pipeline.worker.log_path.read_text() if pipeline.worker else ""
    replay_output = summary.render()
    assert "dead_letter" in worker_log and '"offer"' in worker_log  # the lines that could leak
    for n in range(1, 13):
        for personal in (imsi(n), msisdn(n), email(n)):
            assert personal not in worker_log, f"{personal} in the worker's log"
            assert personal not in replay_output, f"{personal} in the replay summary"
    assert worker_log.count('"dead_letter"') >= 2  # the two worker dead letters were logged
    assert replay_output.count("<masked:") >= 2
