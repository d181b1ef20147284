"""The codec: Avro single-object encoding of the cjo.v1 records, and their plain JSON form.

- :func:`encode` / :func:`decode`: records <-> bytes on Kafka (``C3 01`` + CRC-64-AVRO + body);
- :func:`normalise`: a plain JSON value (recorded logs) -> a complete, checked record;
- :func:`parse_log_line`: one recorded-log line -> :class:`LogRecord`;
- :func:`checked_key` / :func:`key_matches`: the key rule (an input is keyed by its ``imsi``),
  for the worker and the log reader alike;
- :func:`dead_letter`: the encoded ``DeadLetter`` of an input that could not be used;
- :func:`schema`: the parsed schema of ``schemas/<name>.avsc``.

Records are plain Python values: timestamps int epoch milliseconds, dates int days since
1970-01-01, enums str, bytes bytes.
"""

from .deadletter import MAX_DEAD_LETTER_KEY, MAX_DEAD_LETTER_PAYLOAD, dead_letter
from .keys import checked_key, key_matches
from .logline import (
    EVENT_TIME_FIELD,
    RECORD_OF_STREAM,
    LogRecord,
    event_time_of,
    parse_log_line,
)
from .normalise import normalise
from .schemas import fingerprint, record_names, schema
from .wire import decode, encode, encode_complete, register_writer_schema

__all__ = [
    "EVENT_TIME_FIELD",
    "MAX_DEAD_LETTER_KEY",
    "MAX_DEAD_LETTER_PAYLOAD",
    "RECORD_OF_STREAM",
    "LogRecord",
    "checked_key",
    "dead_letter",
    "decode",
    "encode",
    "encode_complete",
    "event_time_of",
    "fingerprint",
    "key_matches",
    "normalise",
    "parse_log_line",
    "record_names",
    "register_writer_schema",
    "schema",
]
