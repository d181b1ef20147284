"""The ``DeadLetter`` record: an input that could not be used, with its original bytes and why."""

from __future__ import annotations

from .wire import encode


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
    """
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
