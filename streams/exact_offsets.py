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

from cjo.adapters.kafka_admin import end_offsets

Reader = Callable[[list[str]], Awaitable[Mapping[tuple[str, int], int]]]


def reader(bootstrap: str) -> Reader:
    async def read(topics: list[str]) -> Mapping[tuple[str, int], int]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, end_offsets, bootstrap, topics)

    return read
