"""Test-only entry script: the real `cjo worker`, which stops itself (SIGSTOP) in the middle of
a step, as a worker paused by its host would, once its offers are on the broker and before the
step is done (at-least-once: before its state is stored and its offsets committed;
exactly-once: inside the step's transaction, before it commits).

    python -m tests.integration.zombie_worker

It stops on the ``STOP_AT``-th send of records that holds offers; the test resumes it (SIGCONT).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

STOP_AT = 3


def inject() -> None:
    from streams import faust_pins

    send_records_on = faust_pins.send_records_on
    sends = [0]

    async def stopping_send(producer: Any, records: Sequence[Any]) -> list[Any]:
        deliveries = await send_records_on(producer, records)
        if any(".offers." in topic for topic, *_ in records):
            sends[0] += 1
            if sends[0] == STOP_AT:
                await producer.flush()  # the offers are on the broker (uncommitted under EOS)
                os.kill(os.getpid(), signal.SIGSTOP)
        return deliveries

    faust_pins.send_records_on = stopping_send  # type: ignore[assignment]


if __name__ == "__main__":
    inject()
    from cjo.cli import main

    sys.exit(main(["worker"]))
