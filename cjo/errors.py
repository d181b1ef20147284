"""The one exception tree of cjo.

::

    CjoError                      root: catch this to catch anything cjo raises on purpose
    ├── ConfigError               a setting or a command-line value is wrong
    ├── InvalidRecord             an input record does not fit the data contract (field, reason)
    │   └── DecodeError           bytes that are not a decodable record (bad header, unknown schema)
    ├── CatalogueError            a trigger catalogue entry is wrong (file, line, field)
    ├── CatalogueRejected         a catalogue was refused: every problem found (.problems)
    └── BrokerError               the embedded broker cannot start, answer or stop
"""

from __future__ import annotations


class CjoError(Exception):
    """Root of every error cjo raises on purpose."""


class ConfigError(CjoError):
    """A setting or command-line value is wrong; the message says which and what to do."""


class InvalidRecord(CjoError):
    """An input record does not fit the data contract.

    ``field`` is the dotted path of the offending field (``""`` when the record as a whole is
    wrong); ``reason`` says what was expected and what arrived.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class DecodeError(InvalidRecord):
    """Bytes that cannot be decoded at all (not Avro single-object, unknown fingerprint, ...)."""


class CatalogueError(CjoError):
    """A catalogue entry is wrong: carries the file, the line and the field."""

    def __init__(self, file: str, line: int, field: str, reason: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{file}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


class CatalogueRejected(CjoError):
    """A catalogue was refused as a whole; ``problems`` lists every entry that is wrong.

    ``str()`` is one problem per line, ``file:line: field: reason`` (the validator orders them
    by file, then line).
    """

    def __init__(self, problems: list[CatalogueError]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class BrokerError(CjoError):
    """The embedded broker cannot start, answer or stop."""
