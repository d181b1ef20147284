"""What an SMSC sends back in a ``deliver_sm``: a delivery receipt, or a mobile-originated (MO)
text such as STOP.

Receipts (``esm_class`` message type 0x04): the TLVs ``receipted_message_id`` (0x001E) and
``message_state`` (0x0427) are read first, then the text ``id:... sub:... dlvrd:... submit
date:... done date:... stat:DDDDDDD err:E text:...`` (SMPP 3.4 appendix B; its format is the
vendor's, so every field but ``id`` and ``stat`` is optional). An SMSC may write the ids in
another base than its ``submit_sm_resp`` (hex in one, decimal in the other): :func:`id_key`
brings both to one key, per the bases configured.

Final states: DELIVRD / 2 -> DELIVERED; EXPIRED, DELETED, UNDELIV, UNKNOWN, REJECTD / 3, 4, 5,
7, 8 -> FAILED; ENROUTE, ACCEPTD / 1, 6 (and anything unreadable) are not final: acknowledged,
no response.

MO keywords: the whole text, trimmed and case-folded, equal to one keyword (``STOP``, not ``STOP
PLEASE``), as Braze, Twilio and AWS match them.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423
ESM_CLASS_RECEIPT = 0x04  # message type bits 2-5 of esm_class: SMSC delivery receipt
MESSAGE_TYPE_MASK = 0x3C

DELIVERED, FAILED = "DELIVERED", "FAILED"
_STATE_NAMES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV",
                6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}
_FINAL = {"DELIVRD": DELIVERED, "EXPIRED": FAILED, "DELETED": FAILED, "UNDELIV": FAILED,
          "UNKNOWN": FAILED, "REJECTD": FAILED}

STOP_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
START_KEYWORDS = ("START", "UNSTOP")

_ID = re.compile(r"\bid:\s*([0-9A-Za-z_\-.]+)", re.IGNORECASE)
_STAT = re.compile(r"\bstat:\s*([A-Za-z]{1,8})", re.IGNORECASE)
_ERR = re.compile(r"\berr:\s*([0-9A-Za-z]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt read: the SMSC's id of the receipted message (as written), its stat (``DELIVRD``
    ...), the response status it means (``DELIVERED``, ``FAILED``, or None: not final), the error
    code if given, and which base the id is in (``submit``: the TLV, as in ``submit_sm_resp``;
    ``receipt``: the text's)."""

    message_id: str
    stat: str
    status: str | None
    err: str | None
    id_source: str

    @property
    def reason(self) -> str:
        return f"stat:{self.stat}" + (f" err:{self.err}" if self.err else "")


def is_receipt(esm_class: int) -> bool:
    return esm_class & MESSAGE_TYPE_MASK == ESM_CLASS_RECEIPT


def _c_string(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()


def parse_receipt(tlvs: Mapping[int, bytes], text: str) -> Receipt | None:
    """The receipt in a ``deliver_sm`` (its TLVs by tag, its text decoded); None when it names no
    message id."""
    message_id, source = "", "submit"
    if TLV_RECEIPTED_MESSAGE_ID in tlvs:
        message_id = _c_string(tlvs[TLV_RECEIPTED_MESSAGE_ID])
    if not message_id:
        found = _ID.search(text)
        message_id, source = (found.group(1), "receipt") if found else ("", source)
    if not message_id:
        return None
    stat = ""
    state = tlvs.get(TLV_MESSAGE_STATE)
    if state:
        stat = _STATE_NAMES.get(state[0], "")
    if not stat:
        found = _STAT.search(text)
        stat = found.group(1).upper() if found else "UNKNOWN"
    err_match = _ERR.search(text)
    err = err_match.group(1) if err_match else None
    if err is None and TLV_NETWORK_ERROR_CODE in tlvs and len(tlvs[TLV_NETWORK_ERROR_CODE]) == 3:
        err = str(int.from_bytes(tlvs[TLV_NETWORK_ERROR_CODE][1:], "big"))
    if stat in ("ENROUTE", "ACCEPTD"):
        return Receipt(message_id, stat, None, err, source)
    return Receipt(message_id, stat, _FINAL.get(stat, FAILED if stat else None), err, source)


def id_key(message_id: str, base: str) -> str:
    """One key for an SMSC message id however it is written: ``base`` ``hex`` or ``dec`` reads
    it as a number in that base (``00A1`` hex and ``161`` dec are one key); ``text`` keeps it as
    written (case-folded). An id that does not read in its base is kept as written."""
    message_id = message_id.strip()
    if base in ("hex", "dec"):
        try:
            return str(int(message_id, 16 if base == "hex" else 10))
        except ValueError:
            pass
    return message_id.casefold()


def keyword(text: str, keywords: Iterable[str]) -> str | None:
    """The keyword ``text`` is (trimmed, case-folded, one word, optional final ``.``/``!``),
    as configured (upper case), or None."""
    word = text.strip().rstrip(".!").strip().casefold()
    if not word or any(c.isspace() for c in word):
        return None
    return next((k.upper() for k in keywords if k.strip().casefold() == word), None)
