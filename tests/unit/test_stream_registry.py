"""cjo.stream_registry: one table of the streams and topics, and what derives from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cjo import codec
from cjo.codec.schemas import record_names, schema
from cjo.engine.ordering import STREAM_RANK, EventTimeMerger
from cjo.settings import Settings, Topics, load
from cjo.state import Position, SubscriberState, apply_record
from cjo.stream_registry import CHANNELS, INPUTS, OUTPUTS, STREAMS, TOPIC_SUFFIX, InputStream

from .test_codec import IMSI, SAMPLES, T0

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("stream", INPUTS, ids=STREAMS)
def test_every_input_has_a_schema_keyed_and_timed_by_its_fields(stream: InputStream) -> None:
    assert stream.record in record_names()
    fields = {f["name"]: f["type"] for f in schema(stream.record)["fields"]}
    assert fields["imsi"] == "string"  # the key rule reads it
    assert fields[stream.event_time] == {"type": "long", "logicalType": "timestamp-millis"}


def test_names_ranks_records_and_topics_are_each_unique() -> None:
    assert len(set(STREAMS)) == len(INPUTS)
    assert sorted(s.rank for s in INPUTS) == list(range(len(INPUTS)))
    assert len({s.record for s in INPUTS}) == len(INPUTS)
    assert len(TOPIC_SUFFIX) == len(INPUTS) + len(OUTPUTS)  # no output named like an input
    assert len(set(TOPIC_SUFFIX.values())) == len(TOPIC_SUFFIX)
    assert set(CHANNELS) <= set(OUTPUTS)


def test_the_merge_orders_equal_event_times_by_rank() -> None:
    merger: EventTimeMerger[str] = EventTimeMerger(STREAM_RANK)
    for stream in STREAMS:
        merger.push(0, stream, 100, 0, stream)
    released = list(merger.release(0, caught_up=lambda topic: True, now_ms=0))
    assert released == [s.name for s in sorted(INPUTS, key=lambda s: s.rank)]
    assert released[0] == "subscribers"  # a profile applies before the events it governs


@pytest.mark.parametrize("stream", STREAMS)
def test_every_input_updates_the_state(stream: str) -> None:
    record = SAMPLES[codec.RECORD_OF_STREAM[stream]]
    after = apply_record(SubscriberState(imsi=IMSI), stream, record, Position(stream, 0))
    assert after is not None and after.applied == {stream: 0}
    # the stream's own update ran: it noted the record's event time
    assert max(after.last_event_time, after.profile_at) == T0


def test_a_stream_without_a_state_update_fails_at_import() -> None:
    code = ("import cjo.stream_registry as r; r.STREAMS = (*r.STREAMS, 'fax'); "
            "import cjo.state.update")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, env={"PYTHONPATH": str(README.parent)})
    assert run.returncode != 0
    assert "an update per input stream is needed" in run.stderr and "'fax'" in run.stderr


# the default names README.md documents
DOCUMENTED = {
    "charging": "p.events.charging", "location": "p.events.location", "usage": "p.events.usage",
    "subscribers": "p.subscribers", "responses": "p.offers.responses", "decisions": "p.decisions",
    "dlq": "p.dlq", "push": "p.offers.push", "sms": "p.offers.sms", "email": "p.offers.email",
    "ticks": "p.ticks", "catalogue": "p.catalogue", "outcomes": "p.outcomes",
    "learning": "p.learning", "models": "p.models", "dnc": "p.dnc"}


def test_topics_default_to_prefix_and_suffix() -> None:
    topics = Topics("p", {})
    assert all(topics[name] == f"p.{suffix}" for name, suffix in TOPIC_SUFFIX.items())
    assert {name: topics[name] for name in DOCUMENTED} == DOCUMENTED
    assert list(topics.inputs()) == list(STREAMS)
    assert list(topics.offers()) == list(CHANNELS)


@pytest.mark.parametrize("name", TOPIC_SUFFIX)
def test_every_topic_is_overridden_by_its_environment_variable(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"CJO_TOPIC_{name.upper()}", "mine")
    monkeypatch.setenv("CJO_TOPIC_PREFIX", "q")
    topics = load().topics
    assert topics[name] == "mine"
    assert all(topics[other] == f"q.{suffix}" for other, suffix in TOPIC_SUFFIX.items()
               if other != name)


def test_settings_and_readme_name_every_topic_variable_and_no_other() -> None:
    fields = {f.removeprefix("topic_") for f in Settings.model_fields if f.startswith("topic_")}
    assert fields == {"prefix", *TOPIC_SUFFIX}
    settings = (README.parent / "docs" / "settings.md").read_text(encoding="utf-8")
    assert all(f"`CJO_TOPIC_{name.upper()}`" in settings for name in TOPIC_SUFFIX)
