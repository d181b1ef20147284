"""The streams and topics of cjo, in one place: settings, codec, ordering and state derive from it.

An input stream is read from its topic, decoded as one Avro record (``schemas/<record>.avsc``),
merged with the other inputs by event time (ties broken by ``rank``) and applied to the
subscriber's state (``cjo.state.update``, one function per stream, checked against this table
when that module is imported). Every topic's default name is ``<prefix>.<suffix>``; the
environment variable ``CJO_TOPIC_<NAME>`` overrides it (``cjo.settings``).

This module imports nothing of cjo, so any part may use it. Each user derives the lookup it needs
once (``codec.RECORD_OF_STREAM`` and ``engine.ordering.STREAM_RANK`` at import, a ``Topics`` when
it is made): code that runs per record reads those dicts, never ``INPUTS``.

Adding an input stream (docs/architecture.md, "Checklists"): its record in ``schemas/`` (an
``imsi`` string and a ``timestamp-millis`` event time), an entry in ``INPUTS`` and its update in
``cjo.state.update``; its setting ``topic_<name>`` is made from the entry. Tests fail until
its ``CJO_TOPIC_<NAME>`` row is in docs/settings.md and a sample record in
``tests/unit/test_codec.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputStream:
    """One input stream, keyed by its subscriber's IMSI (the codec checks it)."""

    name: str  # the logical name: a recorded log's "topic", Topics' key, CJO_TOPIC_<NAME>
    record: str  # the Avro record of its values: schemas/<record>.avsc
    rank: int  # at equal event times, the lower rank is merged (and applied) first
    suffix: str  # the default topic is <prefix>.<suffix>
    event_time: str = "event_time"  # the field holding the record's event time


# In this order: Topics.inputs(), the worker's subscription, "one of ..." in error messages.
INPUTS: tuple[InputStream, ...] = (
    InputStream("charging", "ChargingEvent", rank=1, suffix="events.charging"),
    InputStream("location", "LocationEvent", rank=2, suffix="events.location"),
    InputStream("usage", "UsageEvent", rank=3, suffix="events.usage"),
    # a profile applies before the events it governs
    InputStream("subscribers", "SubscriberProfile", rank=0, suffix="subscribers",
                event_time="updated_at"),
    InputStream("responses", "OfferResponse", rank=4, suffix="offers.responses"),
)

CHANNELS = ("push", "sms", "email")  # an offer topic per channel (lower case)

# What the worker writes, and the control topics it reads besides the inputs: name -> suffix.
OUTPUTS: dict[str, str] = {
    "decisions": "decisions",  # Decision: every trigger moment, sent or not, and why
    "dlq": "dlq",  # DeadLetter: inputs (and timers) that could not be used
    **{channel: f"offers.{channel}" for channel in CHANNELS},  # Offer, one topic per channel
    "ticks": "ticks",  # wall-time ticks: idle partitions advance, due timers fire
    "catalogue": "catalogue",  # the live catalogue (compacted, one partition)
    "outcomes": "outcomes",  # Outcome: how a sent offer ended
    "learning": "learning",  # LearningExample: what the scorer learns from
    "models": "models",  # signed scorer snapshots
    "dnc": "dnc",  # do-not-contact list, keyed by IMSI (compacted)
    # a channel gateway's claim ledger, keyed by offer id (compacted; cjo.delivery.ledger)
    **{f"ledger_{channel}": f"gateway.{channel}.ledger" for channel in CHANNELS},
}

STREAMS: tuple[str, ...] = tuple(s.name for s in INPUTS)
TOPIC_SUFFIX: dict[str, str] = {**{s.name: s.suffix for s in INPUTS}, **OUTPUTS}
