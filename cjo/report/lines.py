"""The records of cjo's output topics as one readable line each (``cjo tail``): offers,
decisions, and dead letters with their reason and a readable excerpt of the original bytes.
Pure: a decoded record in, a line out."""

from __future__ import annotations

from typing import Any

from cjo.report.state_view import iso

EXCERPT = 120  # characters of a dead letter's payload shown


def excerpt(data: bytes | None, limit: int = EXCERPT) -> str:
    """Bytes as text a terminal shows safely: printable ASCII kept, the rest as ``\\xNN``
    escapes (an Avro record's strings stay readable), cut at ``limit`` characters."""
    if not data:
        return "(empty)"
    out: list[str] = []
    size = 0
    for byte in data:
        piece = chr(byte) if 32 <= byte < 127 and byte != 92 else f"\\x{byte:02x}"
        if size + len(piece) > limit:
            out.append(f"... ({len(data)} bytes)")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def offer_line(o: dict[str, Any]) -> str:
    return (f"{iso(o['published_at'])} {o['channel']:<5} {o['offer_code']} to {o['imsi']} "
            f"({o.get('destination') or '-'}) trigger {o['trigger_id']} "
            f"score {_num(o.get('score'))} offer {o['offer_id']}: {o.get('message') or ''}")


def decision_line(d: dict[str, Any]) -> str:
    reasons = ", ".join(d.get("reasons") or []) or "-"
    channel = f" {d['channel']}" if d.get("channel") else ""
    return (f"{iso(d['published_at'])} {d['outcome']:<10} {d['trigger_id']} "
            f"{d.get('offer_code') or '-'}{channel} imsi {d['imsi']} reasons [{reasons}] "
            f"score {_num(d.get('score'))} model {d.get('model_version') or '-'}")


def dead_letter_line(d: dict[str, Any]) -> str:
    where = f"{d['source_topic']}[{d['source_partition']}]@{d['source_offset']}"
    return (f"{iso(d['failed_at'])} DEAD {where}: {d['error']} | key {excerpt(d.get('key'), 40)}"
            f" | payload {excerpt(d.get('payload'))}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
