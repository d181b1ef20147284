"""Hostile input records, as hypothesis strategies: what a broken or malicious producer can put
on cjo's input topics, byte for byte.

Each kind derives one :class:`Hostile` record from a good template (a :class:`LogRecord` of the
same stream) and says by construction what the engine must do with it: dead-letter it (``dies``)
or take it as a record like any other (``taken``: the decoded record, which the offline reference
must see too). Kinds of the second sort hit the template's subscriber, right after the template
(same topic, same event time), except a record at time 0: it goes to a subscriber of its own (an
IMSI starting 99999), as a worker sees it late and the offline reference in order.
Adding a kind is one line in :data:`KINDS`.

Kinds proven by tests of their own are listed in :data:`EXCLUDED`, with the test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from io import BytesIO
from typing import Any

from fastavro import schemaless_writer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cjo import codec
from cjo.codec import LogRecord
from cjo.codec.schemas import wire_schema
from cjo.codec.wire import MAGIC, header

MAX_HUGE_BYTES = 200_000  # well under the 1 MB records excluded below
YEAR_2100_MS = 4_102_444_800_000
ISOLATED_PREFIX = "99999"  # IMSIs of taken hostile records: no good record uses them


@dataclass(frozen=True)
class Hostile:
    kind: str
    stream: str  # the input stream it goes to
    key: bytes | None = field(repr=False)
    value: bytes | None = field(repr=False)
    taken: LogRecord | None = field(default=None, repr=False)  # None: it must be dead-lettered

    @property
    def dies(self) -> bool:
        return self.taken is None


Make = Callable[[LogRecord], st.SearchStrategy[Hostile]]


def raw_encode(name: str, record: Mapping[str, Any]) -> bytes:
    """Avro single-object bytes of ``record`` WITHOUT cjo's checks: what a foreign producer
    with the right schema but no validation writes (negative times, NaN, bad IMSIs...)."""
    out = BytesIO()
    out.write(header(name))
    schemaless_writer(out, wire_schema(name), dict(record))
    return out.getvalue()


def _good(t: LogRecord) -> bytes:
    return codec.encode_complete(t.record_name, t.value)


def _time_field(t: LogRecord) -> str:
    return "updated_at" if t.record_name == "SubscriberProfile" else "event_time"


def _dead(kind: str, t: LogRecord, key: bytes | None, value: bytes | None) -> Hostile:
    return Hostile(kind, t.stream, key, value)


def _mutated(kind: str, t: LogRecord, name: str, bad: st.SearchStrategy[Any]
             ) -> st.SearchStrategy[Hostile]:
    return bad.map(lambda v: _dead(kind, t, t.key, raw_encode(t.record_name,
                                                              {**t.value, name: v})))


def _is_plmn(s: str) -> bool:
    return s.isascii() and s.isdigit() and 5 <= len(s) <= 6


_not_a_plmn = st.text(max_size=10).filter(lambda s: not _is_plmn(s))
_imsis = st.integers(0, 10**10 - 1).map(lambda n: f"23499{n:010d}")
_not_an_imsi = st.one_of(
    st.text(max_size=20).filter(lambda s: not (s.isascii() and s.isdigit() and 5 <= len(s) <= 15)),
    st.integers(16, 100_000).map(lambda n: "7" * n),  # a huge one
)


# --- kinds the engine must dead-letter -------------------------------------------------------

def random_bytes(t: LogRecord) -> st.SearchStrategy[Hostile]:
    return st.binary(max_size=300).filter(lambda b: not b.startswith(MAGIC)).map(
        lambda b: _dead("random_bytes", t, t.key, b))


def empty_value(t: LogRecord) -> st.SearchStrategy[Hostile]:
    return st.sampled_from([b"", None]).map(lambda v: _dead("empty_value", t, t.key, v))


def unknown_fingerprint(t: LogRecord) -> st.SearchStrategy[Hostile]:
    known = {codec.fingerprint(n) for n in codec.record_names()}
    return st.tuples(st.binary(min_size=8, max_size=8).filter(lambda f: f not in known),
                     st.binary(max_size=100)).map(
        lambda fb: _dead("unknown_fingerprint", t, t.key, MAGIC + fb[0] + fb[1]))


def truncated_avro(t: LogRecord) -> st.SearchStrategy[Hostile]:
    good = _good(t)
    return st.integers(0, len(good) - 1).map(
        lambda n: _dead("truncated_avro", t, t.key, good[:n]))


def trailing_bytes(t: LogRecord) -> st.SearchStrategy[Hostile]:
    good = _good(t)
    return st.binary(min_size=1, max_size=40).map(
        lambda b: _dead("trailing_bytes", t, t.key, good + b))


def wrong_schema(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """A valid record of another of our schemas (another stream's, or an output's)."""
    other = next(n for n in ("OfferResponse", "UsageEvent") if n != t.record_name)
    record = {"event_id": "e-wrong-schema", "event_time": t.event_time, "imsi": t.key.decode(),
              "offer_id": "o1", "channel": "SMS", "status": "DELIVERED", "app_id": "a",
              "app_category": "VIDEO", "bytes_uplink": 1, "bytes_downlink": 1,
              "duration_ms": 1, "dropped": False}
    return st.just(_dead("wrong_schema", t, t.key, codec.encode(other, {
        k: v for k, v in record.items() if k in {f["name"] for f in codec.schema(other)["fields"]}
    })))


def wrong_key(t: LogRecord) -> st.SearchStrategy[Hostile]:
    good = _good(t)
    return _imsis.filter(lambda i: i.encode() != t.key).map(
        lambda i: _dead("wrong_key", t, i.encode(), good))


def missing_key(t: LogRecord) -> st.SearchStrategy[Hostile]:
    return st.just(_dead("missing_key", t, None, _good(t)))


def bad_imsi(t: LogRecord) -> st.SearchStrategy[Hostile]:
    return _not_an_imsi.map(lambda i: _dead("bad_imsi", t, i.encode(), raw_encode(
        t.record_name, {**t.value, "imsi": i})))


def negative_time(t: LogRecord) -> st.SearchStrategy[Hostile]:
    return _mutated("negative_time", t, _time_field(t), st.integers(-(2**63), -1))


_negative = st.integers(-(2**63), -1)
_beyond = st.one_of(st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                    st.floats(180.000001, 1e308), st.floats(-1e308, -180.000001))
OUT_OF_RANGE: dict[str, list[tuple[str, st.SearchStrategy[Any]]]] = {
    "ChargingEvent": [("used_total_octets", _negative), ("bundle_remaining_octets", _negative),
                      ("serving_plmn", _not_a_plmn)],
    "LocationEvent": [("lat", _beyond), ("lon", _beyond), ("home_plmn", _not_a_plmn)],
    "UsageEvent": [("bytes_downlink", _negative), ("duration_ms", _negative),
                   ("throughput_kbps", st.integers(-(2**31), -1))],
    "SubscriberProfile": [("home_plmn", _not_a_plmn)],
    "OfferResponse": [("event_time", _negative)],
}


def out_of_range(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """A number (or code) outside what the contract allows: negative counters, NaN/inf or
    beyond +-180 degrees, a PLMN that is not 5-6 digits."""
    return st.sampled_from(OUT_OF_RANGE[t.record_name]).flatmap(
        lambda fb: _mutated("out_of_range", t, fb[0], fb[1]))


# --- kinds the engine must take like any record (for a subscriber of their own) ---------------

def _huge_text() -> st.SearchStrategy[str]:
    def grow(seed: str) -> str:
        return seed * max(1, MAX_HUGE_BYTES // len(seed.encode()))
    return st.text(min_size=1, max_size=8).map(grow)


HUGE_FIELD = {"ChargingEvent": "session_id", "LocationEvent": "cell_id", "UsageEvent": "app_id",
              "SubscriberProfile": "segment", "OfferResponse": "provider_message_id"}


def _taken(kind: str, t: LogRecord, imsi: str, changes: Mapping[str, Any]) -> Hostile:
    value = raw_encode(t.record_name, {**t.value, "imsi": imsi, **changes,
                                       **({"event_id": f"{kind}-{imsi}"} if "event_id" in
                                          t.value else {})})
    _, decoded = codec.decode(value, t.record_name)  # raises: the kind is not "taken"
    record = replace(t, key=imsi.encode(), value=decoded)
    return Hostile(kind, t.stream, record.key, value, record)


_isolated = st.integers(0, 10**10 - 1).map(lambda n: f"{ISOLATED_PREFIX}{n:010d}")


def huge_string(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """A free-text field of ~200 KB (valid: the contract sets no length), the template's
    subscriber's."""
    return _huge_text().map(
        lambda text: _taken("huge_string", t, t.key.decode(), {HUGE_FIELD[t.record_name]: text}))


EXTREME: dict[str, list[tuple[str, Any]]] = {
    "ChargingEvent": [("used_total_octets", 2**63 - 1), ("balance", -1e308),
                      ("bundle_total_octets", 2**63 - 1)],
    "LocationEvent": [("lat", -90.0), ("lon", 180.0)],
    "UsageEvent": [("bytes_downlink", 2**63 - 1), ("duration_ms", 2**63 - 1),
                   ("throughput_kbps", 2**31 - 1)],
    "SubscriberProfile": [("updated_at", 0)],
    "OfferResponse": [("event_time", 0)],
}


def extreme_valid(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """A value at the very edge of what the contract allows (max long, -90 degrees...), the
    template's subscriber's; time 0 goes to a subscriber of its own (a worker sees it late, the
    offline reference in order: it must touch no one's state)."""
    def make(imsi: str, change: tuple[str, Any]) -> Hostile:
        own = change[0] in ("event_time", "updated_at")
        return _taken("extreme_valid", t, imsi if own else t.key.decode(), dict([change]))
    return st.tuples(_isolated, st.sampled_from(EXTREME[t.record_name])).map(
        lambda it: make(*it))


FREE_TEXT = {"ChargingEvent": ("session_id", "currency", "bundle_id", "msisdn"),
             "LocationEvent": ("tac", "cell_id", "imeisv", "msisdn"),
             "UsageEvent": ("app_id",),
             "SubscriberProfile": ("timezone", "language", "msisdn", "plan_id"),
             "OfferResponse": ("offer_id", "provider_message_id")}


def junk_text(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """Any text (control characters, emoji, empty, a path...) in a string field the contract
    does not check: a zone that does not exist, a language of NULs..."""
    return st.tuples(st.sampled_from(FREE_TEXT[t.record_name]), st.text(max_size=40)).map(
        lambda ft: _taken("junk_text", t, t.key.decode(), {ft[0]: ft[1]}))


def nan_balance(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """NaN or an infinity where no field rule applies (a charging record's balance): the codec
    refuses every non-finite float (once taken: -inf fired low_balance offers)."""
    if t.record_name != "ChargingEvent":
        return st.nothing()
    return _mutated("nan_balance", t, "balance", st.sampled_from([math.nan, math.inf, -math.inf]))


def future_time(t: LogRecord) -> st.SearchStrategy[Hostile]:
    """An event time from 2100 on (beyond CJO_MAX_FUTURE_MS of the wall clock and of the
    partition), up to the largest long (beyond the codec's year-9999 bound)."""
    return _mutated("future_time", t, _time_field(t), st.integers(YEAR_2100_MS, 2**63 - 1))


# kind -> strategy of one record derived from a template. Adding a kind is one line here.
KINDS: dict[str, Make] = {
    "random_bytes": random_bytes,
    "empty_value": empty_value,
    "unknown_fingerprint": unknown_fingerprint,
    "truncated_avro": truncated_avro,
    "trailing_bytes": trailing_bytes,
    "wrong_schema": wrong_schema,
    "wrong_key": wrong_key,
    "missing_key": missing_key,
    "bad_imsi": bad_imsi,
    "negative_time": negative_time,
    "out_of_range": out_of_range,
    "huge_string": huge_string,
    "extreme_valid": extreme_valid,
    "nan_balance": nan_balance,
    "future_time": future_time,
    "junk_text": junk_text,
}

# Kinds proven by tests of their own rather than mixed in here.
EXCLUDED: dict[str, str] = {
    "oversized": "records > 1 MB exceed this test's producer's message size: "
                 "tests/integration/test_input_limits.py produces one with a raised limit",
    "wrong_partition": "needs an explicit partition, not the key's: "
                       "tests/integration/test_input_limits.py (profiles partitioned by CRC32)",
    "control_topics": "cjo.models, cjo.dnc, cjo.catalogue: tests/integration/"
                      "test_control_refused.py and the hypothesis fuzzing of their parsers",
}


def derived(templates: Sequence[LogRecord], make: Make
            ) -> st.SearchStrategy[tuple[int, Hostile]]:
    """One record of a kind, with the index of the template (in ``templates``) it came from:
    the stream first (each as likely), then a template of that stream."""
    by_stream: dict[str, list[int]] = {}
    for index, template in enumerate(templates):
        by_stream.setdefault(template.stream, []).append(index)
    return st.sampled_from(sorted(by_stream)).flatmap(
        lambda stream: st.sampled_from(by_stream[stream])).flatmap(
        lambda i: make(templates[i]).map(lambda h: (i, h)))


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Up to ``count`` values of ``strategy``, the same ones every run (derandomized): the
    draws hypothesis makes for a test of ``count`` examples, simplest first."""
    found: list[Any] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def hostile_records(templates: Sequence[LogRecord], per_kind: int,
                    kinds: Mapping[str, Make] = KINDS) -> list[tuple[int, Hostile]]:
    """Up to ``per_kind`` distinct draws of every kind, each with its template's index."""
    drawn: list[tuple[int, Hostile]] = []
    for make in kinds.values():
        seen: set[tuple[int, bytes | None, bytes | None]] = set()
        for index, h in examples(derived(templates, make), per_kind * 2):
            if (index, h.key, h.value) not in seen and len(seen) < per_kind:
                seen.add((index, h.key, h.value))
                drawn.append((index, h))
    return drawn
