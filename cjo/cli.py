"""The `cjo` command. Each subcommand parses its flags and hands over to streams/ or adapters/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from cjo.errors import CatalogueRejected, CjoError


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'max', got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be > 0")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cjo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("broker", help="run the embedded Kafka-protocol broker (Tansu)")
    b.add_argument("--port", type=int, default=None, help="loopback port (default: a free one)")

    w = sub.add_parser("worker", help="run a stream worker (settings from CJO_* variables)")
    w.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    w.add_argument("--partitions", type=int, help="partitions of created topics (CJO_PARTITIONS)")
    w.add_argument("--data-dir", type=Path, help="RocksDB directory (CJO_DATA_DIR)")
    w.add_argument("--web-port", type=int, help="faust web port (CJO_WEB_PORT, 0 = free)")

    r = sub.add_parser("replay", help="produce a recorded log into the input topics")
    r.add_argument("file", type=Path)
    r.add_argument("--speed", type=_speed, default=None,
                   help="N times event time, or 'max' (default)")
    r.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")

    d = sub.add_parser("demo", help="broker + worker + a recorded log replayed; offers printed")
    d.add_argument("--events", type=Path, default=None, help="recorded log (default: bundled)")
    d.add_argument("--out", type=Path, default=None, help="write every offer as a JSON line")
    d.add_argument("--partitions", type=int, default=8)
    d.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the worker")
    d.add_argument("--speed", type=_speed, default=None,
                   help="replay pace: N times event time, or 'max' (default)")

    s = sub.add_parser("simulate", help="write a deterministic simulated recorded log")
    s.add_argument("--subscribers", type=int, default=100)
    s.add_argument("--days", type=int, default=2)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", type=Path, required=True)

    rp = sub.add_parser("report", help="holdout uplift per trigger and offer (from the "
                        "decisions, outcomes and responses topics)")
    rp.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    rp.set_defaults(run=_report)

    e = sub.add_parser("explain", help="one subscriber's decisions, newest first, with reasons, "
                       "scores and outcomes")
    e.add_argument("imsi", help="the subscriber's IMSI (5 to 15 digits)")
    e.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    e.add_argument("--last", type=int, default=20, help="how many decisions to show (20)")
    e.set_defaults(run=_explain)

    rs = sub.add_parser("respond", help="a simulated population answering published offers by "
                        "hidden propensities (closes the learning loop in a demo)")
    rs.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    rs.add_argument("--seed", type=int, default=7)
    rs.add_argument("--every", type=float, default=5.0, help="seconds between rounds")
    rs.add_argument("--once", action="store_true", help="answer what is there, then exit")
    rs.set_defaults(run=_respond)

    dn = sub.add_parser("dnc", help="the global do-not-contact list (compacted topic)")
    dn.add_argument("action", choices=["add", "remove"])
    dn.add_argument("imsis", nargs="+", help="IMSIs (5 to 15 digits)")
    dn.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    dn.set_defaults(run=_dnc)

    _catalogue_parser(sub.add_parser("catalogue", help="check and show trigger catalogues"))
    _schemas_parser(sub.add_parser("schemas", help="Avro schema evolution"))
    return p


def _schemas_parser(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="schemas_command", required=True)
    c = sub.add_parser("check", help="refuse an incompatible change from the previous "
                       "release's schemas (exit 1, one line per problem)")
    c.add_argument("--current", type=Path, default=None, help="schema directory (schemas/)")
    c.add_argument("--previous", type=Path, default=None,
                   help="the previous release's (schemas/previous/)")
    c.set_defaults(run=_schemas_check)


Command = Callable[[argparse.Namespace], int]


def _catalogue_parser(group: argparse.ArgumentParser) -> None:
    """``cjo catalogue SUBCOMMAND``: each subcommand is a parser here plus one ``_catalogue_*``
    function, attached with ``set_defaults(run=...)``."""
    sub = group.add_subparsers(dest="catalogue_command", required=True)

    v = sub.add_parser("validate", help="check catalogue files; every problem at file:line")
    v.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    v.set_defaults(run=_catalogue_validate)

    sh = sub.add_parser("show", help="the triggers of catalogue files (default: the bundled one)")
    sh.add_argument("files", type=Path, nargs="*", help="YAML files (default: bundled)")
    sh.set_defaults(run=_catalogue_show)

    a = sub.add_parser("apply", help="validate, then publish to the catalogue topic: every "
                       "worker switches to it without a restart")
    a.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    a.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    a.set_defaults(run=_catalogue_apply)

    d = sub.add_parser("diff", help="what applying these files would change (exit 1: changes)")
    d.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    d.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    d.set_defaults(run=_catalogue_diff)

    ls = sub.add_parser("list", help="the live catalogue (what the workers run)")
    ls.add_argument("--broker", help="bootstrap servers (CJO_BROKER)")
    ls.set_defaults(run=_catalogue_list)

    t = sub.add_parser("try", help="run a recorded log through these files in process (no "
                       "broker): what each trigger would have decided")
    t.add_argument("files", type=Path, nargs="+", help="YAML files, read as one catalogue")
    t.add_argument("--log", type=Path, required=True, help="recorded log (JSON Lines)")
    t.add_argument("--partitions", type=int, default=1, help="partitions to spread it over")
    t.set_defaults(run=_catalogue_try)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ValidationError as err:
        print(f"cjo: invalid setting: {err.errors()[0]['loc']}: {err.errors()[0]['msg']}",
              file=sys.stderr)
    except CatalogueRejected as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except CjoError as err:
        print(f"cjo: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("cjo: interrupted", file=sys.stderr)
        return 130
    return 2


def _dispatch(args: argparse.Namespace) -> int:
    from cjo.settings import load

    if args.command == "broker":
        from cjo.adapters.broker import run_broker

        return run_broker(args.port)
    if args.command == "worker":
        from streams.worker import run_worker

        return run_worker(load(broker=args.broker, partitions=args.partitions,
                               data_dir=args.data_dir, web_port=args.web_port))
    if args.command == "replay":
        from cjo.adapters.replay import run_replay

        settings = load(broker=args.broker)
        return run_replay(args.file, settings.broker, settings.topics, args.speed,
                          partitions=settings.partitions)
    if args.command == "demo":
        from cjo.adapters.demo import DemoOptions, run_demo, sample_log

        return run_demo(DemoOptions(events=args.events or sample_log(), out=args.out,
                                    partitions=args.partitions, timeout_s=args.timeout,
                                    speed=args.speed))
    if args.command == "simulate":
        from cjo.sim import run_simulate

        return run_simulate(args.subscribers, args.days, args.seed, args.out)
    if args.command in ("catalogue", "report", "explain", "respond", "dnc", "schemas"):
        run: Command = args.run
        return run(args)
    raise AssertionError(args.command)


def _catalogue_validate(args: argparse.Namespace) -> int:
    """Prints ``OK: ...`` and returns 0; a refused catalogue raises (main prints every problem
    on stderr and exits 1)."""
    from cjo.catalogue.validate import load_files

    catalogue = load_files(args.files)
    print(f"OK: {len(catalogue.triggers)} triggers ({len(catalogue.enabled())} enabled), "
          f"{len(catalogue.venues)} venues, digest {catalogue.digest}")
    return 0


def _catalogue_show(args: argparse.Namespace) -> int:
    from cjo.catalogue.describe import describe
    from cjo.catalogue.validate import default_catalogue, load_files

    print(describe(load_files(args.files) if args.files else default_catalogue()))
    return 0


def _catalogue_apply(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_apply
    from cjo.settings import load

    return run_apply(load(broker=args.broker), args.files)


def _catalogue_diff(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_diff
    from cjo.settings import load

    return run_diff(load(broker=args.broker), args.files)


def _catalogue_list(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_list
    from cjo.settings import load

    return run_list(load(broker=args.broker))


def _catalogue_try(args: argparse.Namespace) -> int:
    from cjo.adapters.catalogue_commands import run_try

    return run_try(args.files, args.log, args.partitions)


def _report(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import run_report
    from cjo.settings import load

    return run_report(load(broker=args.broker))


def _explain(args: argparse.Namespace) -> int:
    from cjo.adapters.audit_commands import run_explain
    from cjo.settings import load

    return run_explain(load(broker=args.broker), args.imsi, args.last)


def _respond(args: argparse.Namespace) -> int:
    from cjo.adapters.responder import run_responder
    from cjo.settings import load

    return run_responder(load(broker=args.broker), args.seed, args.every, args.once)


def _dnc(args: argparse.Namespace) -> int:
    from cjo.adapters.control_topics import publish_dnc
    from cjo.settings import load

    settings = load(broker=args.broker)
    count = publish_dnc(settings, args.imsis, block=args.action == "add")
    verb = "blocked" if args.action == "add" else "unblocked"
    print(f"{verb} {count} subscriber(s) on {settings.topics['dnc']}")
    return 0


def _schemas_check(args: argparse.Namespace) -> int:
    """Prints ``OK: ...`` and returns 0, or every incompatible change on stderr and returns 1."""
    from cjo.codec.evolution import PREVIOUS_RELEASE, check_release

    try:
        problems = check_release(args.current, args.previous)
    except ValueError as err:
        print(f"cjo: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"incompatible: {problem}", file=sys.stderr)
    if problems:
        return 1
    against = f"release {PREVIOUS_RELEASE}" if args.previous is None else str(args.previous)
    print(f"OK: schemas compatible with {against}")
    return 0
