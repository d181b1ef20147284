"""Test-only entry script: the real `cjo worker`, with one fault injected by patching a method.

    python -m tests.integration.faulty_worker <fault>

``publish``: the processor's publication raises on its ``PUBLISH_FAULT_AT``-th call (mid-stream,
nothing of that step is out or stored); ``learner``: the learner agent raises on its first
example; ``follower``: the do-not-contact follower task raises on its first record;
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


if __name__ == "__main__":
    inject(sys.argv[1])
    from cjo.cli import main

    raise SystemExit(main(["worker"]))
