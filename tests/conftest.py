"""Shared fixtures: one embedded broker per test session, and a fresh topic prefix per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cjo.adapters.broker import EmbeddedBroker

_prefixes = itertools.count(1)


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A started EmbeddedBroker shared by the session's integration tests (stopped at the end)."""
    from cjo.adapters.broker import EmbeddedBroker

    with EmbeddedBroker() as started:
        yield started


@pytest.fixture
def unique_prefix() -> str:
    """A topic prefix no other test in this session uses, so tests on the one broker stay apart."""
    return f"t{next(_prefixes)}"
