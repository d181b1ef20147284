"""A dead letter always fits a producer request, whatever the input: what it keeps is bounded,
and a truncated payload is named by its size and SHA-256."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from cjo.codec import MAX_DEAD_LETTER_KEY, MAX_DEAD_LETTER_PAYLOAD, dead_letter, decode

MAX_REQUEST_SIZE = 1_000_000  # faust's producer default (aiokafka, librdkafka: 1 MiB)


def test_a_big_payload_is_truncated_with_its_size_and_digest() -> None:
    payload = bytes(range(256)) * 8_000  # 2 MB
    letter = decode(dead_letter("t", 1, 2, b"k", payload, "bad", 0))[1]
    assert letter["payload"] == payload[:MAX_DEAD_LETTER_PAYLOAD]
    digest = hashlib.sha256(payload).hexdigest()
    assert letter["error"] == (f"bad [payload truncated to {MAX_DEAD_LETTER_PAYLOAD} of "
                               f"{len(payload)} bytes, sha256 {digest}]")


def test_a_small_payload_is_kept_whole() -> None:
    letter = decode(dead_letter("t", 1, 2, b"k", b"x" * MAX_DEAD_LETTER_PAYLOAD, "bad", 0))[1]
    assert (len(letter["payload"]), letter["error"]) == (MAX_DEAD_LETTER_PAYLOAD, "bad")


@given(st.integers(0, 3_000_000), st.integers(0, 100_000), st.integers(0, 200_000))
def test_the_envelope_always_fits_a_producer_request(payload: int, key: int, error: int) -> None:
    encoded = dead_letter("cjo.events.charging", 3, 10, b"k" * key, b"p" * payload, "e" * error, 1)
    assert len(encoded) + min(key, MAX_DEAD_LETTER_KEY) < MAX_REQUEST_SIZE
