"""Exact log-end offsets for faust's changelog recovery on the embedded broker.

Tansu answers ListOffsets(latest) with the last batch's base offset + 1, and faust's recovery asks
exactly that (``Consumer.highwaters``). Rather than make every changelog batch hold one record
(a broker round trip per state write: measured ~1,300 events/s for the whole worker), recovery
reads the end offsets from fetch responses, which carry the true high watermark
(``cjo.adapters.kafka_admin.end_offsets``). Only installed with CJO_EMBEDDED_BROKER_WORKAROUNDS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from cjo.adapters.kafka_admin import end_offsets


def install(bootstrap: str) -> None:
    async def highwaters(self: Any, *partitions: TP) -> Mapping[TP, int]:
        topics = sorted({tp.topic for tp in partitions})
        loop = asyncio.get_running_loop()
        ends = await loop.run_in_executor(None, end_offsets, bootstrap, topics)
        return {tp: ends[(tp.topic, tp.partition)] for tp in partitions}

    faust_aiokafka.Consumer.highwaters = highwaters  # type: ignore[method-assign]
