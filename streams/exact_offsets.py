"""Exact log-end offsets for faust's changelog recovery on the embedded broker.

Tansu answers ListOffsets(latest) with the last batch's base offset + 1, and faust's recovery asks
exactly that (``Consumer.highwaters``). Rather than make every changelog batch hold one record
(a broker round trip per state write: measured ~1,300 events/s for the whole worker), recovery
reads the end offsets from fetch responses, which carry the true high watermark
(``cjo.adapters.kafka_admin.end_offsets``). Only used with CJO_EMBEDDED_BROKER_WORKAROUNDS
(``streams.faust_pins.BatchConsumer.highwaters``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from cjo.adapters.kafka_admin import committed_ends, end_offsets

Reader = Callable[[list[str]], Awaitable[Mapping[tuple[str, int], int]]]


def reader(bootstrap: str) -> Reader:
    async def read(topics: list[str]) -> Mapping[tuple[str, int], int]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, end_offsets, bootstrap, topics)

    return read


Ends = Mapping[tuple[str, int], int]


def committed_reader(bootstrap: str) -> Callable[[Ends], Awaitable[Ends]]:
    """Exactly-once: where the records a read_committed reader gets end, below the given last
    stable offsets (``cjo.adapters.kafka_admin.committed_ends``;
    ``streams.faust_pins.BatchConsumer.highwaters``)."""
    async def read(ends: Ends) -> Ends:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, committed_ends, bootstrap, ends)

    return read
