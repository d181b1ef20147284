"""Shared fixtures: one broker per test session, and a fresh topic prefix per test.

The session's ``broker`` is Apache Kafka (a single KRaft node from its Maven jars) wherever Java
and the jars (or Maven to fetch them) are here. Where they are not, the suite says so in one line,
runs on the embedded broker and reports the tests marked ``kafka`` as not run; under CI
(``CI=true``) it refuses to fall back. ``embedded_broker`` is the demo's broker, for the few tests
that are about it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cjo.adapters.broker import Broker, EmbeddedBroker

_prefixes = itertools.count(1)
# the tests' workers are development runs: the public default models key and log salt do
os.environ.setdefault("CJO_DEVELOPMENT", "true")
_WORKAROUNDS = "CJO_EMBEDDED_BROKER_WORKAROUNDS"


def _kafka_missing() -> str | None:
    from cjo.adapters.kafka_broker import available

    return available()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    missing = _kafka_missing()
    config.stash[_missing_key] = missing
    if missing and _in_ci():
        raise pytest.UsageError(f"CI runs every test on Apache Kafka, and it cannot run here: "
                                f"{missing}")


_missing_key = pytest.StashKey[str | None]()


def pytest_report_header(config: pytest.Config) -> str:
    missing = config.stash[_missing_key]
    if missing:
        return (f"broker: the embedded broker, since Apache Kafka cannot run here ({missing}); "
                "the tests marked kafka are not run")
    from cjo.adapters.kafka_broker import kafka_version

    return f"broker: Apache Kafka {kafka_version()} (single KRaft node)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = config.stash[_missing_key]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs Apache Kafka: {missing}")
    for item in items:
        if "kafka" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """The session's shared broker: Apache Kafka where it can run (see the module's docstring).

    With Apache Kafka the workers of the tests read true end offsets (the embedded broker's
    workaround is off, as on a real cluster)."""
    if request.config.stash[_missing_key]:
        from cjo.adapters.broker import EmbeddedBroker

        with EmbeddedBroker() as embedded:
            yield embedded
        return
    from cjo.adapters.kafka_broker import KafkaBroker

    previous = os.environ.get(_WORKAROUNDS)
    os.environ[_WORKAROUNDS] = "false"
    try:
        with KafkaBroker() as kafka:
            yield kafka
    finally:
        if previous is None:
            os.environ.pop(_WORKAROUNDS, None)
        else:
            os.environ[_WORKAROUNDS] = previous


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    """The embedded broker (the demo's), for the tests about it."""
    from cjo.adapters.broker import EmbeddedBroker

    with EmbeddedBroker() as started:
        yield started


@pytest.fixture
def unique_prefix() -> str:
    """A topic prefix no other test in this session uses, so tests on the one broker stay apart."""
    return f"t{next(_prefixes)}"


@pytest.fixture(autouse=True)
def _logging_as_before() -> Iterator[None]:
    """A test that runs a command in process (``cjo.cli.main``) configures structlog and the root
    logger with the streams of that moment, which pytest's capture closes after the test: later
    log lines would then fail with "I/O operation on closed file". Each test leaves the logging
    configuration as it found it."""
    import logging

    import structlog

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
