"""Test-only entry script: the real `cjo worker`, with one fault injected by patching a method.

    python -m tests.integration.faulty_worker <fault>

``publish``: the processor's publication raises on its ``PUBLISH_FAULT_AT``-th call (mid-stream,
nothing of that step is out or stored); ``learner``: the learner agent raises on its first
example; ``follower``: the do-not-contact follower task raises on its first record;
``pause-profiles``: the first fetch of subscriber profiles comes for a partition faust paused
meanwhile; ``drop-usage``: a fetch of usage records is lost between the consumer and the
processor (the consumer's position moved past them: the next fetch begins past a gap);
``file-size=<bytes>``: no fault in cjo, but the process may not write a file past that size
(RLIMIT_FSIZE): a write past it fails with EFBIG, as on a full disk (Python ignores SIGXFSZ, so
the write returns the error instead of killing the process).
"""

from __future__ import annotations

import resource
import sys
from typing import Any

PUBLISH_FAULT_AT = 8


def inject(fault: str) -> None:
    if fault.startswith("file-size="):
        limit = int(fault.partition("=")[2])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    elif fault == "pause-profiles":
        from streams.faust_pins import BatchConsumer

        wait_next = BatchConsumer._wait_next_records
        paused: list[Any] = []

        async def pausing_wait(self: BatchConsumer, timeout: float) -> Any:
            records, active = await wait_next(self, timeout)
            profiles = [tp for tp in records or () if tp.topic.endswith(".subscribers")]
            if profiles and active is not None and not paused:
                paused.append(profiles[0])
                active = set(active) - {profiles[0]}  # paused while the fetch was awaited
            return records, active

        BatchConsumer._wait_next_records = pausing_wait  # type: ignore[method-assign]
    elif fault == "drop-usage":
        from streams.faust_pins import BatchConsumer

        deliver = BatchConsumer._deliver
        seen: list[Any] = []

        async def dropping_deliver(self: BatchConsumer, records: Any, active: Any) -> None:
            usage = sorted(tp for tp in records if tp.topic.endswith(".usage"))
            if not seen and usage:
                seen.append(usage[0])
            elif len(seen) == 1 and seen[0] in records:
                seen.append(seen[0])  # its second fetch never reaches cjo
                records = {tp: r for tp, r in records.items() if tp != seen[0]}
            await deliver(self, records, active)

        BatchConsumer._deliver = dropping_deliver  # type: ignore[method-assign]
    elif fault == "publish":
        from streams.publisher import Publisher

        publish = Publisher.publish
        calls = [0]

        async def failing_publish(self: Publisher, *args: Any, **kwargs: Any) -> None:
            calls[0] += 1
            if calls[0] == PUBLISH_FAULT_AT:
                raise RuntimeError("injected: publish failed")
            await publish(self, *args, **kwargs)

        Publisher.publish = failing_publish  # type: ignore[method-assign]
    elif fault == "learner":
        from streams.learner import Learner

        async def failing_handle(self: Learner, event: Any) -> None:
            raise RuntimeError("injected: learner failed")

        Learner.handle = failing_handle  # type: ignore[method-assign]
    elif fault == "follower":
        import streams.app

        def failing_apply(blocked: set[str], key: bytes | None, value: bytes | None) -> None:
            raise RuntimeError("injected: follower failed")

        streams.app.apply_dnc = failing_apply  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown fault {fault!r}")


def report_decided() -> None:
    """On a normal exit (SIGTERM), print how many input records the processor decided:
    ``cjo-test decided=<n>``."""
    import atexit

    import streams.worker

    create_app = streams.worker.create_app
    processors: list[Any] = []

    def capturing_create_app(*args: Any, **kwargs: Any) -> Any:
        wiring = create_app(*args, **kwargs)
        processors.append(wiring.processor)
        return wiring

    def report() -> None:
        for processor in processors:
            streams = processor._inputs  # stream name -> topic
            decided = sum(processor.counts[s] for s in streams)
            print(f"cjo-test decided={decided}", file=sys.stderr, flush=True)

    streams.worker.create_app = capturing_create_app  # type: ignore[assignment]
    atexit.register(report)


if __name__ == "__main__":
    report_decided()
    inject(sys.argv[1])
    from cjo.cli import main

    raise SystemExit(main(["worker"]))
