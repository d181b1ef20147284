"""RFC 3464 delivery status notifications (bounces) -> the permanent failures they report.

A DSN is ``multipart/report; report-type=delivery-status`` whose ``message/delivery-status``
part holds per-message fields (``Original-Envelope-Id``, ...) then one block per recipient
(``Final-Recipient``, ``Action``, ``Status``, ``Diagnostic-Code``). ``Action: failed`` with a
``5.x.x`` status is a permanent failure; ``delayed`` and 4.x.x are transient, ignored.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True, slots=True)
class Failure:
    recipient: str
    status: str  # RFC 3463, e.g. 5.1.1
    diagnostic: str
    envelope_id: str  # Original-Envelope-Id (the ENVID sent), "" when absent


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status part (the stdlib parses each block as a
    sub-message of the part's payload)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = str(payload or "")
    return [email.message_from_string(b.strip() + "\n") for b in text.split("\n\n") if b.strip()]


def permanent_failures(raw: bytes) -> list[Failure]:
    """The permanent failures a DSN reports; [] for anything else (not a DSN, only delays)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report" or (
            message.get_param("report-type") or "").__str__().lower() != "delivery-status":
        return []
    failures: list[Failure] = []
    for part in message.walk():
        if part.get_content_type() not in ("message/delivery-status",
                                           "message/global-delivery-status"):
            continue
        blocks = _blocks(part)
        if not blocks:
            continue
        envelope_id = str(blocks[0].get("Original-Envelope-Id", "")).strip()
        for block in blocks[1:] or blocks:
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip().split(" ")[0]
            if action == "failed" and status.startswith("5."):
                recipient = str(block.get("Final-Recipient", "")).partition(";")[2].strip()
                failures.append(Failure(recipient, status,
                                        " ".join(str(block.get("Diagnostic-Code", "")).split()),
                                        envelope_id))
    return failures
