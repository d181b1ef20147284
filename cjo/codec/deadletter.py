"""The ``DeadLetter`` record: an input that could not be used, with its original bytes and why.

The dead-letter topic must take any input, however big: an envelope always fits a producer's
maximum request size (by default 1 MB for faust's, 1 MiB for aiokafka's and librdkafka's)
because what it keeps of the input is bounded. A payload over ``MAX_DEAD_LETTER_PAYLOAD`` bytes
is kept truncated to its first bytes, and the error says so with the original size and the
SHA-256 of the whole payload; a key is kept up to ``MAX_DEAD_LETTER_KEY`` bytes and an error up
to ``MAX_DEAD_LETTER_ERROR`` characters.
"""

from __future__ import annotations

import hashlib

from .wire import encode

MAX_DEAD_LETTER_PAYLOAD = 256 * 1024
MAX_DEAD_LETTER_KEY = 1024
MAX_DEAD_LETTER_ERROR = 4096


def dead_letter(
    source_topic: str,
    source_partition: int,
    source_offset: int,
    key: bytes | None,
    payload: bytes,
    error: str,
    failed_at: int,
) -> bytes:
    """The encoded ``DeadLetter`` for ``cjo.dlq``.

    ``source_partition`` / ``source_offset`` are -1 when there are none (``source_offset`` is the
    line number for a recorded log); ``error`` says what was wrong, naming the field (``str()`` of
    an :class:`~cjo.errors.InvalidRecord` does); ``failed_at`` is wall time, epoch milliseconds.
    Payload, key and error are bounded (see the module's doc).
    """
    if len(error) > MAX_DEAD_LETTER_ERROR:
        error = error[:MAX_DEAD_LETTER_ERROR] + " [error truncated]"
    if key is not None and len(key) > MAX_DEAD_LETTER_KEY:
        error += f" [key truncated to {MAX_DEAD_LETTER_KEY} of {len(key)} bytes]"
        key = key[:MAX_DEAD_LETTER_KEY]
    if len(payload) > MAX_DEAD_LETTER_PAYLOAD:
        error += (f" [payload truncated to {MAX_DEAD_LETTER_PAYLOAD} of {len(payload)} bytes, "
                  f"sha256 {hashlib.sha256(payload).hexdigest()}]")
        payload = payload[:MAX_DEAD_LETTER_PAYLOAD]
    return encode(
        "DeadLetter",
        {
            "source_topic": source_topic,
            "source_partition": source_partition,
            "source_offset": source_offset,
            "key": key,
            "payload": payload,
            "error": error,
            "failed_at": failed_at,
        },
    )
