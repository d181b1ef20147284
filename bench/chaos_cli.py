"""The ``--burst`` and ``--soak`` runs of ``make bench`` (stages in :mod:`.chaos`)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import brokers, chaos
from bench.events import generate
from bench.stages import Broker


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def chaos_main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    plans: list[tuple[str, list[chaos.Phase]]] = []
    if args.burst:
        plans.append(("burst", chaos.burst_phases(args.rate, args.quick)))
    if args.soak:
        plans.append(("soak", [chaos.Phase("steady", args.rate, args.soak * 60.0)]))
    out: dict[str, Any] = {"setup": {"subscribers": args.subscribers, "rate": args.rate,
                                     "partitions": args.partitions, "cpus": os.cpu_count(),
                                     "quick": args.quick, "catalogue": "bundled default"}}
    tmp = Path(tempfile.mkdtemp(prefix="cjo-bench-chaos-"))
    try:
        with brokers.open_broker(args.embedded) as broker:
            out["setup"]["broker"] = brokers.name(broker)
            _say(f"on {out['setup']['broker']}")
            for name, phases in plans:
                count = sum(p.events for p in phases)
                _say(f"{name}: {args.subscribers:,} subscribers, {count:,} events, "
                     + ", ".join(f"{p.name} {p.rate:,.0f}/s for {p.seconds:.0f} s"
                                 for p in phases))
                events = generate(args.subscribers, count, args.days, args.seed)
                brokers.check_times(events.events[-1].event_time if events.events else 0,
                                    broker)
                run = Broker(broker.bootstrap, args.partitions, tmp / name, prefix=name,
                             workarounds=broker.workarounds, broker_pid=broker.pid)
                budget = sum(p.seconds for p in phases) + 600.0
                load = chaos.run_load(run, events, phases, budget)
                if name == "burst":
                    out["burst"] = chaos.burst_report(load)
                    print(chaos.burst_text(out["burst"]), flush=True)
                else:
                    out["soak"] = chaos.soak_report(load)
                    out["soak_verdict"] = chaos.soak_verdict(out["soak"])
                    print(chaos.soak_text(out["soak"]), flush=True)
                    print(chaos.verdict_text(out["soak_verdict"]), flush=True)
    finally:
        if args.keep:
            _say(f"worker logs and data dirs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    out["setup"]["seconds"] = round(time.monotonic() - started)
    path = args.json.with_name(args.json.stem + "-chaos.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"\nJSON: {path.resolve()}  (whole run {out['setup']['seconds']} s)")
    return 0
