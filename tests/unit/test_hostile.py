"""The hostile-record strategies (tests/hostile.py) make what they say: a record of a "dies" kind
is refused by the codec or the key rule, one of a "taken" kind decodes to its ``taken`` record."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjo import codec
from cjo.errors import InvalidRecord
from cjo.settings import Settings
from tests.hostile import EXCLUDED, KINDS, Hostile, derived, raw_encode
from tests.integration.test_hostile_input import TEMPLATES

MAX_FUTURE_MS = Settings.model_fields["max_future_ms"].default


def accepted(h: Hostile) -> bool:
    """The worker's rule (streams.processor): decodes as the stream's record, keyed by imsi,
    dated no further than ``CJO_MAX_FUTURE_MS`` ahead of the wall clock."""
    try:
        if not h.value:
            return False
        schema = codec.RECORD_OF_STREAM[h.stream]
        _, record = codec.decode(h.value, schema)
    except InvalidRecord:
        return False
    ahead = codec.event_time_of(schema, record) - time.time() * 1000
    return codec.key_matches(h.key, record["imsi"]) and ahead <= MAX_FUTURE_MS


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.sampled_from(list(KINDS)).flatmap(lambda kind: derived(TEMPLATES, KINDS[kind])))
def test_every_kind_is_refused_or_taken_as_it_says(drawn: tuple[int, Hostile]) -> None:
    index, h = drawn
    assert accepted(h) == (not h.dies), h.kind
    assert h.stream == TEMPLATES[index].stream
    if h.taken is not None:
        decoded = codec.decode(h.value or b"", h.taken.record_name)[1]
        assert repr(decoded) == repr(h.taken.value)  # repr: NaN equals itself


def test_excluded_kinds_are_not_generated() -> None:
    assert not set(EXCLUDED) & set(KINDS)


@pytest.mark.parametrize("balance", [math.nan, math.inf, -math.inf])
def test_a_non_finite_balance_is_refused(balance: float) -> None:
    template = next(t for t in TEMPLATES if t.record_name == "ChargingEvent")
    value = raw_encode("ChargingEvent", {**template.value, "balance": balance})
    with pytest.raises(InvalidRecord, match="balance"):
        codec.decode(value, "ChargingEvent")
