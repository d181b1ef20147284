"""Follows the catalogue control topic while the worker runs, and swaps the catalogue in force.

Started after the worker read the topic to its end (``cjo.adapters.catalogue_topic.read_live``),
from the next offset. The processor reads its catalogue once per record, so a switch is atomic:
a record is decided wholly under the old catalogue or wholly under the new one. A payload is
parsed and validated in a thread (bounded, but up to half a second: never on the event loop); one
that is not a valid catalogue raises (``CatalogueRejected``): the follower refuses it, logged
and counted, and the catalogue in force stays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from cjo import logs
from cjo.catalogue.catalogue import Catalogue
from cjo.control_records import catalogue_of
from cjo.control_signing import fingerprint
from streams.follower import follow

log = logs.get("cjo.catalogue")


async def follow_catalogue(bootstrap: str, topic: str, start: Mapping[int, int],
                           current: Callable[[], Catalogue],
                           switch: Callable[[Catalogue], None],
                           on_refused: Callable[[str, int, int], None],
                           signing_key: bytes) -> None:
    async def handle(key: bytes | None, value: bytes | None, offset: int) -> None:
        new = await asyncio.to_thread(catalogue_of, key, value, signing_key)
        if new is None:
            return
        old = current()
        if new.digest != old.digest:
            switch(new)
            log.info("catalogue_switched", old=old.digest, new=new.digest,
                     triggers=len(new.enabled()), offset=offset,
                     signed_by=fingerprint(signing_key))

    await follow(bootstrap, topic, start or {0: 0}, handle, on_refused)
