"""`make bench` (``python -m bench``): cjo's figures at an operator's scale.

One broker (Apache Kafka where it can run here, the embedded one with ``--embedded``:
:mod:`bench.brokers`), one event set (every subscriber's profile, then network events: about 50 %
location, 35 % charging, 15 % usage), the default catalogue and contact policy. Rows:

1. ceiling: a plain confluent-kafka consumer reading and Avro-decoding the inputs;
2. baseline: a naive Faust agent (decode, one table read and one write per event, defaults);
3. cjo, one worker process;
4. cjo, one worker process per core, in one consumer group;
5. latency: cjo paced at half of row 3's rate, production of the triggering record to the
   offer's publication, p50/p95/p99;
5b. gateways: one ``cjo gateway push`` and one ``cjo gateway email`` process against loopback
   endpoints, offers/s (:mod:`bench.gateways`);
5c. event to receipt: a worker and the sms and push gateways paced as row 5, production of the
   triggering record to the DELIVERED response, p50/p99 (:mod:`bench.receipts`);
6. recovery: a worker with an empty data directory restoring the changelog of row 3, with
   faust's own restore and with cjo's reader (``restore``);
7. RocksDB bytes on disk and process RSS, per 100,000 subscribers;
then the pure domain (decode alone vs decode + decide) and the timer due-scan, in process.
Throughputs count every input record consumed (profiles included) and are shown as ratios to the
baseline and the ceiling, and judged against the targets (:mod:`bench.targets`). The table is
printed and written as JSON (``--json``).

A new row is a stage function (a child process or an in-process measure, returning figures) and
a ``*_row`` function here that turns its figures into :class:`~bench.report.Row` objects, called
from :func:`broker_rows` (needs the broker) or :func:`main` (in process); a row with a key of its
own prints after the known ones (``report.ORDER``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import brokers, gateways, stages
from bench.broker_scan import broker_scan, scan_text
from bench.ceiling import read_and_decode
from bench.chaos_cli import chaos_main
from bench.children import StageFailed, StageTimeout
from bench.decision_quality import bench_decide_path, bench_evaluate
from bench.domain import bench_catalogue_scale, bench_domain, bench_timers
from bench.events import EventSet, generate
from bench.guarantees import guarantee_rows
from bench.live import run_latency
from bench.produce import produce_all
from bench.receipts import run_receipts
from bench.report import BASELINE, CEILING, Results, Row, heading, table
from bench.restore import restore_rows
from bench.sms import bench_sms
from bench.targets import GATEWAY_TARGETS, judge, targets_text
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import create_topics
from cjo.errors import CjoError

PER = 100_000  # resources are shown per this many subscribers
MB = 1024 * 1024
DOMAIN_SAMPLE = 60_000  # records for the in-process domain stage
CATALOGUE_SAMPLE = 20_000  # network records (after the profiles) of the catalogue-scale row


def _positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--subscribers", type=_positive, help="default 100,000 (--quick 20,000)")
    parser.add_argument("--events", type=_positive, help="network events after the profiles; "
                        "default 200,000 (--quick 40,000)")
    parser.add_argument("--days", type=_positive, default=1, help="days of event time they span")
    parser.add_argument("--quick", action="store_true", help="a small run, about 2 minutes")
    parser.add_argument("--embedded", action="store_true",
                        help="on the embedded (Tansu) broker; default: Apache Kafka where it can "
                        "run here (Java 17+, its jars or Maven), else the embedded one")
    parser.add_argument("--partitions", type=_positive, default=8)
    parser.add_argument("--processes", type=_positive, default=os.cpu_count() or 2,
                        help="worker processes of row 4 (default: one per core)")
    parser.add_argument("--latency-seconds", type=float,
                        help="how long the paced load of row 5 lasts; default 60 (--quick 15)")
    parser.add_argument("--guarantees", action="store_true",
                        help="on Apache Kafka: also one worker at least once against exactly "
                        "once (CJO_PROCESSING_GUARANTEE), throughput and paced latency (rows "
                        "eos_*; adds two throughput and two latency stages)")
    parser.add_argument("--json", type=Path, default=Path("out/bench-results.json"),
                        help="where the results go as JSON (default out/bench-results.json, "
                        "git-ignored)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true",
                        help="sample the worker of row 3 with py-spy; print where its time went")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (worker logs, data dirs)")
    parser.add_argument("--burst", action="store_true",
                        help="instead of the rows: steady paced load, ten times it for a minute "
                        "(--quick: 20 s), steady again; latency, lag, RSS, recovery time")
    parser.add_argument("--soak", type=_positive, metavar="MINUTES",
                        help="instead of the rows: steady paced load for MINUTES; one line a "
                        "minute (RSS, p50/p99 latency, throughput)")
    parser.add_argument("--broker-scan", action="store_true",
                        help="instead of the rows: the broker's cost per fetch as a partition's "
                        "record batches pile up (the embedded broker's grows: why a long --soak "
                        "slows there)")
    parser.add_argument("--catalogue-scale", action="store_true",
                        help="instead of the rows: only the catalogue-scale rows (bundled vs "
                        "500 triggers, in process, no broker)")
    parser.add_argument("--rate", type=_positive,
                        help="steady rate of --burst/--soak, events/s; default 400 (--quick 200)")
    args = parser.parse_args(argv)
    args.rate = args.rate or (200 if args.quick else 400)
    args.subscribers = args.subscribers or (20_000 if args.quick else 100_000)
    args.events = args.events or (40_000 if args.quick else 200_000)
    args.latency_seconds = args.latency_seconds or (15.0 if args.quick else 60.0)
    return args


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


STAGE_ERRORS = (StageTimeout, StageFailed, CjoError)  # a stage that fails is a row that says so


def _failed(key: str, label: str, error: Exception, unit: str = "events/s") -> Row:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    _say(f"{label}: {error}")
    return Row(key, label, None, unit, note=f"FAILED: {first}")


def broker_rows(results: Results, args: argparse.Namespace, events: EventSet,
                tmp: Path, broker: Broker) -> None:
    budget = max(180.0, (len(events.profiles) + len(events.events)) / 300)
    run = stages.Broker(broker.bootstrap, args.partitions, tmp, workarounds=broker.workarounds)
    inputs = run.inputs()
    create_topics(broker.bootstrap, inputs.values(), args.partitions)
    produced = produce_all(broker.bootstrap, inputs, events.all())
    results.setup["producer_events_per_s"] = round(produced.rate)
    ends = stages.input_ends(produced.ends, inputs)
    _say(f"produced {produced.count:,} records in {produced.seconds:.1f} s; ceiling")
    count, seconds = read_and_decode(broker.bootstrap, ends)
    results.add(Row(CEILING, "ceiling: confluent-kafka + Avro decode", count / seconds,
                    "events/s", count, seconds, compare=True))
    baseline_row(results, run, ends, budget)
    one = cjo_rows(results, run, ends, budget, events.subscribers, args.profile)
    if one is not None:
        recovery_row(results, run, one, budget)
    many_row(results, run, ends, budget, args.processes)
    latency_rows(results, run, events, args, budget)
    gateway_rows(results, run, args.quick, budget)
    receipt_rows(results, run, events, args, budget)
    if args.guarantees:
        if broker.workarounds:
            _say("--guarantees: exactly once needs Apache Kafka's transactions; not run here")
        else:
            guarantee_rows(results, run, ends, events, args.latency_seconds, budget)


def gateway_rows(results: Results, run: stages.Broker, quick: bool, budget: float) -> None:
    """One gateway process per channel against loopback endpoints (:mod:`bench.gateways`)."""
    for channel, count in gateways.COUNTS.items():
        label = gateways.LABELS[channel]
        _say(label)
        try:
            results.add(gateways.measure(channel, run.bootstrap, run.partitions,
                                         count // 4 if quick else count, run.tmp, budget))
        except STAGE_ERRORS as err:
            results.add(_failed(f"gateway_{channel}", label, err, "offers/s"))


def receipt_rows(results: Results, run: stages.Broker, events: EventSet,
                 args: argparse.Namespace, budget: float) -> None:
    """The chain, event to delivery receipt, paced as row 5 (:mod:`bench.receipts`); the same
    offers' production-to-offer delay is the baseline, so the gateways' share shows."""
    sustained = results.value("cjo_1")
    if not sustained:
        results.add(Row("receipt_p99", "event to receipt", None, "ms",
                        note="no rate from row cjo, 1"))
        return
    _say(f"event to receipt (sms, push) at {sustained / 2:,.0f} events/s for "
         f"{args.latency_seconds:.0f} s")
    try:
        got = run_receipts(run, events, sustained / 2, args.latency_seconds, budget)
    except STAGE_ERRORS as err:
        results.add(_failed("receipt_p99", "event to receipt", err, "ms"))
        return
    per_s = ", ".join(f"{c} {(got.offers[c] + got.filler[c]) / max(got.seconds, 1e-3):,.0f} "
                      f"offers/s ({got.offers[c]:,} from the worker)"
                      for c in sorted(got.offers | got.filler))
    results.setup["receipts"] = {
        "events": got.events, "rate": round(got.rate), "offers": dict(got.offers),
        "filler": dict(got.filler), "p50_by_thirds": got.thirds(), "statuses": dict(got.statuses),
        **{f"{c}_p{q}": got.p(q, c) for c in got.to_receipt for q in (50, 99)},
        **{f"to_offer_p{q}": got.p_offer(q) for q in (50, 99)}}
    for q in (50, 99):
        value, base = got.p(q), got.p_offer(q)
        note = (f"same offers, production to offer p{q}: {base:,.0f} ms; gateways "
                f"{value - base:,.0f} ms" if value is not None and base is not None else "")
        if q == 99:
            note += "; " + ", ".join(f"{c} p99 {got.p(99, c) or 0:,.0f} ms"
                                     for c in sorted(got.to_receipt)) + f"; {per_s}"
        results.add(Row(f"receipt_p{q}", f"event to receipt p{q} (sms, push)", value, "ms",
                        len(got.all_receipts), got.seconds, note=note))


def baseline_row(results: Results, run: stages.Broker, ends: dict[tuple[str, int], int],
                 budget: float) -> None:
    label, records = "baseline: naive Faust agent", sum(ends.values())
    _say(label)
    try:
        naive = stages.run_naive(run, ends, budget)
    except STAGE_ERRORS as err:
        results.add(_failed(BASELINE, label, err))
        return
    results.add(Row(BASELINE, label, records / naive.seconds, "events/s", records,
                    naive.seconds, compare=True))


def recovery_row(results: Results, run: stages.Broker, one: stages.CjoRun,
                 budget: float) -> None:
    """Row 3's changelog restored by a worker with an empty data dir: faust's, then cjo's."""
    label = "recovery: changelog restore, empty data dir"
    _say(label)
    try:
        for row in restore_rows(run.bootstrap, one.env, run.tmp, budget):
            results.add(row)
    except STAGE_ERRORS as err:
        results.add(_failed("recovery", label, err, "records/s"))


def many_row(results: Results, run: stages.Broker, ends: dict[tuple[str, int], int],
             budget: float, processes: int) -> None:
    label, records = f"cjo, {processes} worker processes, one group", sum(ends.values())
    _say(label)
    try:
        many = stages.run_cjo(run, "cjoN", processes, ends, budget)
    except STAGE_ERRORS as err:
        results.add(_failed("cjo_n", label, err))
        return
    results.add(Row("cjo_n", label, records / many.timing.seconds, "events/s", records,
                    many.timing.seconds, compare=True))


def cjo_rows(results: Results, run: stages.Broker, ends: dict[tuple[str, int], int],
             budget: float, subscribers: int, profile: bool) -> stages.CjoRun | None:
    _say("cjo, 1 worker process" + (" (sampled by py-spy)" if profile else ""))
    records = sum(ends.values())
    try:
        one = stages.run_cjo(run, "cjo1", 1, ends, budget, profile)
    except STAGE_ERRORS as err:
        results.add(_failed("cjo_1", "cjo, 1 worker process", err))
        return None
    offers = stages.count_offers(run.bootstrap, "cjo1", run.prefix)
    results.add(Row("cjo_1", "cjo, 1 worker process", records / one.timing.seconds, "events/s",
                    records, one.timing.seconds, compare=True,
                    note=f"{sum(offers.values()):,} offers"))
    results.setup["cjo_1_offers"] = offers
    if profile and one.profile is None:
        _say("no profile: py-spy is not installed (it is a dev dependency: make, or pip install "
             "py-spy)")
    if one.profile is not None:
        results.setup["profile"] = {"samples": one.profile.samples, "top": one.profile.top(20),
                                    "leaves": one.profile.top_leaves(20)}
    scale = PER / subscribers
    results.add(Row("disk", "RocksDB on disk per 100k subscribers", one.disk * scale / MB, "MB",
                    note=f"{one.disk / MB:,.1f} MB for {subscribers:,}"))
    peak, idle = one.timing.peak_rss, one.timing.idle_rss
    # a worker holding 100k subscribers: its RSS when ready plus the growth seen here, scaled
    # linearly (exact at 100k subscribers; an upper bound below, the growth is partly buffers)
    results.add(Row("rss", "worker RSS per 100k subscribers", (idle + (peak - idle) * scale) / MB,
                    "MB", note=f"peak {peak / MB:,.0f} MB for {subscribers:,}, "
                    f"{idle / MB:,.0f} MB when ready"))
    return one


def latency_rows(results: Results, run: stages.Broker, events: EventSet,
                 args: argparse.Namespace, budget: float) -> None:
    sustained = results.value("cjo_1")
    if not sustained:
        results.add(Row("latency_p99", "latency", None, "ms", note="no rate from row cjo, 1"))
        return
    _say(f"latency at {sustained / 2:,.0f} events/s for {args.latency_seconds:.0f} s")
    try:
        lat = run_latency(run, events, sustained / 2, args.latency_seconds, budget)
    except STAGE_ERRORS as err:
        results.add(_failed("latency_p99", "latency", err, "ms"))
        return
    note = (f"{len(lat.measured):,} of {lat.offers:,} offers, {lat.events:,} events "
            f"at {lat.rate:,.0f}/s")
    results.setup["latency_windows_10s"] = lat.windows()
    for q in (50, 95, 99):
        results.add(Row(f"latency_p{q}", f"latency p{q}, production to offer", lat.p(q), "ms",
                        lat.events, lat.seconds, note=note if q == 50 else ""))
    inbound_rows(results, lat)


def inbound_rows(results: Results, lat: Any) -> None:
    """Inbound next best offer, asked of the latency stage's worker: idle (the baseline), then
    under its paced load (``bench.inbound``)."""
    idle, loaded = lat.inbound_idle, lat.inbound_loaded
    base = idle.p(99)
    for key, label, got in (("inbound_idle_p99", "inbound next best offer p99, worker idle",
                             idle),
                            ("inbound_p50", "inbound next best offer p50, under load", loaded),
                            ("inbound_p99", "inbound next best offer p99, under load", loaded)):
        q = 50 if key.endswith("p50") else 99
        value = got.p(q)
        note = f"{len(got.measured):,} requests, {got.degraded} degraded, {got.failed} failed"
        if key == "inbound_p99" and value is not None and base:
            note += f"; {value / base:.1f}x the idle p99"
        results.add(Row(key, label, value, "ms", len(got.measured), note=note))


def profile_text(profile: dict[str, Any]) -> str:
    lines = [f"py-spy, worker of row 3 from its Ready line: {profile['samples']:,} busy "
             "samples; cjo's own functions, % of samples on the stack / % as the leaf:"]
    lines += [f"  {inc:5.1f}  {leaf:5.1f}  {name}" for name, inc, leaf in profile["top"]]
    lines.append("where the time is spent (leaf functions, any code):")
    lines += [f"  {leaf:5.1f}  {name}" for name, leaf in profile["leaves"]]
    return "\n".join(lines)


def broker_results(args: argparse.Namespace, events: EventSet, broker: Broker) -> Results:
    """The rows that need the broker, on ``broker``."""
    brokers.check_times(max((e.event_time for e in events.events), default=0), broker)
    results = Results(setup={
        "broker": brokers.name(broker),
        "subscribers": args.subscribers, "events": args.events, "days": args.days,
        "mix": dict(events.counts), "travellers": events.travellers,
        "partitions": args.partitions, "processes": args.processes, "cpus": os.cpu_count(),
        "catalogue": "bundled default", "time_mode": "replay"})
    _say(f"on {results.setup['broker']}: {args.subscribers:,} subscribers, {args.events:,} "
         f"events ({', '.join(f'{k} {v:,}' for k, v in sorted(events.counts.items()))})")
    tmp = Path(tempfile.mkdtemp(prefix="cjo-bench-"))
    try:
        broker_rows(results, args, events, tmp, broker)
    finally:
        if args.keep:
            _say(f"worker logs and data dirs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return results


def catalogue_rows(events: EventSet) -> list[Row]:
    _say("catalogue scale: bundled vs 500 triggers, in process")
    return bench_catalogue_scale(events.all()[: len(events.profiles) + CATALOGUE_SAMPLE])


def catalogue_main(args: argparse.Namespace, events: EventSet, started: float) -> int:
    results = Results(setup={"subscribers": args.subscribers, "cpus": os.cpu_count(),
                             "load_before": os.getloadavg()})
    for row in catalogue_rows(events):
        results.add(row)
    results.setup["load_after"] = os.getloadavg()
    results.setup["seconds"] = round(time.monotonic() - started)
    print(table(results))
    print(f"\nload average before {results.setup['load_before'][0]:.1f}, after "
          f"{results.setup['load_after'][0]:.1f} ({os.cpu_count()} cpus)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    results.write_json(args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.burst or args.soak:
        return chaos_main(args)
    try:
        if args.broker_scan:
            with brokers.open_broker(args.embedded) as broker:
                print(f"broker: {brokers.name(broker)}", flush=True)
                print(scan_text(broker_scan(broker)))
            return 0
        started = time.monotonic()
        events = generate(args.subscribers, args.events, args.days, args.seed)
        if args.catalogue_scale:
            return catalogue_main(args, events, started)
        with brokers.open_broker(args.embedded) as broker:
            results = broker_results(args, events, broker)
    except CjoError as err:
        _say(str(err))
        return 2
    _say("domain and timers, in process")
    sample = events.all()[: len(events.profiles) + DOMAIN_SAMPLE]
    for row in [*bench_domain(sample), *catalogue_rows(events), *bench_timers(),
                *bench_decide_path(), *bench_evaluate()]:
        results.add(row)
    _say("SMS channel against the loopback SMSC")
    try:
        for row in bench_sms():
            results.add(row)
    except Exception as err:  # a missing smpp34 or SMSC must not lose the other rows
        results.add(_failed("sms_window", "SMS channel, 1 process, window 10", err, "submits/s"))
    results.setup["seconds"] = round(time.monotonic() - started)
    results.setup["targets"] = judge(results) + judge(results, GATEWAY_TARGETS)
    print(heading(results))
    print(table(results))
    print("\n" + targets_text(results.setup["targets"], args.subscribers))
    if results.setup.get("latency_windows_10s"):
        print("\nlatency per 10 s of the paced load (ms): " + ", ".join(
            f"{w['p50']:.0f}/{w['p99']:.0f}" for w in results.setup["latency_windows_10s"])
            + "  (p50/p99)")
    if "profile" in results.setup:
        print("\n" + profile_text(results.setup["profile"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    results.write_json(args.json)
    print(f"\nJSON: {args.json.resolve()}  (whole run {results.setup['seconds']} s)")
    return 0
