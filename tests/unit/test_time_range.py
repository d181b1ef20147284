"""Every event time the codec accepts is one the domain can decide on: the codec's bound and the
domain's date arithmetic agree (a record dated near 2**53 once crashed ``local_hour``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjo.catalogue.validate import default_catalogue
from cjo.codec import LogRecord
from cjo.codec.checks import MAX_TIMESTAMP_MS, check_timestamp
from cjo.engine.offline import read_log, run_offline
from cjo.errors import InvalidRecord
from cjo.scoring.features import local_hour
from sim import simulate, write_log

ACCEPTED = st.integers(min_value=0, max_value=MAX_TIMESTAMP_MS - 1)
ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/London", "America/St_Johns"]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[LogRecord]:
    path: Path = tmp_path_factory.mktemp("range") / "range.jsonl"
    with path.open("w") as out:
        write_log(simulate(subscribers=3, days=1, seed=2), out)
    return read_log(path)[0]


def test_the_codec_refuses_what_datetime_cannot_hold() -> None:
    check_timestamp(MAX_TIMESTAMP_MS - 1)
    with pytest.raises(InvalidRecord):
        check_timestamp(MAX_TIMESTAMP_MS)
    with pytest.raises(InvalidRecord):
        check_timestamp(2**53 - 1)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))  # any Avro date
def test_the_domain_decides_over_the_accepted_dates(records: list[LogRecord], day: int) -> None:
    """Every profile's contract ends on ``day`` (the codec takes any) and its trials expire then
    (within the accepted timestamps)."""
    profiles = [r for r in records if r.stream == "subscribers"]
    assert profiles

    def moved(r: LogRecord) -> LogRecord:
        if r.stream != "subscribers":
            return r
        expires = min(max(0, day * 86_400_000), MAX_TIMESTAMP_MS - 1)
        trials = [{**t, "expires_at": expires} for t in r.value.get("trials") or []]
        return replace(r, value={**r.value, "contract_end": day, "trials": trials})

    assert_decided([moved(r) for r in records])


@given(ACCEPTED, st.sampled_from(ZONES))
def test_local_hour_over_the_accepted_range(event_time: int, zone: str) -> None:
    assert 0 <= local_hour(event_time, zone) < 24


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ACCEPTED)
def test_the_domain_decides_over_the_accepted_range(records: list[LogRecord],
                                                    newest: int) -> None:
    """A log moved so that its newest record is at ``newest`` (its oldest at 0 at the least)."""
    shift = newest - max(r.event_time for r in records)
    moved = []
    for r in records:
        when = max(0, r.event_time + shift)
        field = "updated_at" if r.stream == "subscribers" else "event_time"
        moved.append(replace(r, value={**r.value, field: when}, event_time=when))
    assert_decided(moved)


def assert_decided(records: list[LogRecord]) -> None:
    """Every record reaches the domain, triggers fire, and each decision is dated within the log
    (the sample log's three subscribers make at least one decision wherever it is moved)."""
    result = run_offline(records, default_catalogue(), 2)
    assert result.records == len(records)
    assert result.decisions
    newest = max(r.event_time for r in records)
    assert all(0 <= d["trigger_time"] <= newest for d in result.decisions)
