"""SMPP 3.4 PDUs an ESME sends and reads, as bytes: the few an SMS gateway needs.

Sent: ``bind_transceiver``, ``submit_sm``, ``deliver_sm_resp``, ``enquire_link`` and its
response, ``unbind`` and its response, ``generic_nack``. Read: any PDU's header, the
``submit_sm_resp`` message id, a ``deliver_sm``'s fields and TLVs. A PDU is a 16-octet header
(length, command id, command status, sequence number, big-endian) and a body of C-strings,
octets and TLVs (tag, length, value).

Pure: no I/O. Malformed input raises :class:`PduError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024 + 1024

GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER = 0x00000009
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
RESP = 0x80000000  # a response's command id: the request's | RESP

ESME_ROK = 0x00000000
ESME_RMSGQFUL = 0x00000014
ESME_RTHROTTLED = 0x00000058
ESME_RX_T_APPN = 0x00000064  # ESME receiver temporary error: the SMSC delivers again later
ESME_RSYSERR = 0x00000008
THROTTLED = frozenset({ESME_RMSGQFUL, ESME_RTHROTTLED})


class PduError(ValueError):
    """Bytes that are not the PDU they should be."""


@dataclass(frozen=True, slots=True)
class Header:
    length: int
    command_id: int
    status: int
    sequence: int


@dataclass(frozen=True, slots=True)
class DeliverSm:
    source_addr: str
    destination_addr: str
    esm_class: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)


def header(data: bytes) -> Header:
    if len(data) < HEADER.size:
        raise PduError(f"PDU header needs {HEADER.size} octets, got {len(data)}")
    h = Header(*HEADER.unpack_from(data))
    if not HEADER.size <= h.length <= MAX_PDU:
        raise PduError(f"PDU length {h.length} out of range [{HEADER.size}, {MAX_PDU}]")
    return h


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return HEADER.pack(HEADER.size + len(body), command_id, status, sequence) + body


def c_string(value: str, limit: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) >= limit:
        raise PduError(f"{value!r} is longer than {limit - 1} octets")
    return raw + b"\x00"


def bind_transceiver(sequence: int, system_id: str, password: str, system_type: str = "",
                     addr_ton: int = 0, addr_npi: int = 0, address_range: str = "") -> bytes:
    body = (c_string(system_id, 16) + c_string(password, 9) + c_string(system_type, 13)
            + bytes((0x34, addr_ton, addr_npi)) + c_string(address_range, 41))
    return pdu(BIND_TRANSCEIVER, sequence, body)


def absolute_time(ms: int) -> str:
    """SMPP absolute time ``YYMMDDhhmmsstnnp`` in UTC (``000+``) for ``validity_period``."""
    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.strftime("%y%m%d%H%M%S") + f"{at.microsecond // 100_000}00+"


@dataclass(frozen=True, slots=True)
class Addressing:
    source_addr: str
    source_ton: int = 5  # alphanumeric
    source_npi: int = 0
    dest_ton: int = 1  # international
    dest_npi: int = 1  # E.164
    service_type: str = ""


def submit_sm(sequence: int, addressing: Addressing, destination: str, short_message: bytes,
              data_coding: int, esm_class: int = 0, registered_delivery: int = 1,
              validity_period: str = "") -> bytes:
    if len(short_message) > 254:
        raise PduError(f"short_message of {len(short_message)} octets, more than 254")
    a = addressing
    body = (c_string(a.service_type, 6) + bytes((a.source_ton, a.source_npi))
            + c_string(a.source_addr, 21) + bytes((a.dest_ton, a.dest_npi))
            + c_string(destination.lstrip("+"), 21) + bytes((esm_class, 0, 0)) + b"\x00"
            + c_string(validity_period, 17)
            + bytes((registered_delivery, 0, data_coding, 0, len(short_message)))
            + short_message)
    return pdu(SUBMIT_SM, sequence, body)


def response(request: Header, status: int = ESME_ROK, body: bytes = b"") -> bytes:
    return pdu(request.command_id | RESP, request.sequence, body, status)


def deliver_sm_resp(sequence: int, status: int = ESME_ROK) -> bytes:
    return pdu(DELIVER_SM | RESP, sequence, b"\x00", status)


class _Reader:
    def __init__(self, body: bytes) -> None:
        self.body, self.at = body, 0

    def c_string(self) -> str:
        end = self.body.find(b"\x00", self.at)
        if end < 0:
            raise PduError(f"unterminated C-string at octet {self.at}")
        value = self.body[self.at:end].decode("latin-1")
        self.at = end + 1
        return value

    def octet(self) -> int:
        if self.at >= len(self.body):
            raise PduError(f"body ends at octet {self.at}, an octet expected")
        self.at += 1
        return self.body[self.at - 1]

    def octets(self, n: int) -> bytes:
        if self.at + n > len(self.body):
            raise PduError(f"body ends at octet {len(self.body)}, {n} octets expected at "
                           f"{self.at}")
        self.at += n
        return self.body[self.at - n:self.at]

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.at + 4 <= len(self.body):
            tag, length = struct.unpack_from(">HH", self.body, self.at)
            self.at += 4
            found[tag] = self.octets(length)
        return found


def message_id(body: bytes) -> str:
    """The ``message_id`` of a ``submit_sm_resp`` body ("" when the body is empty, as on an
    error)."""
    return _Reader(body).c_string().strip() if body else ""


def deliver_sm(body: bytes) -> DeliverSm:
    r = _Reader(body)
    r.c_string()  # service_type
    r.octet(), r.octet()
    source = r.c_string()
    r.octet(), r.octet()
    destination = r.c_string()
    esm_class = r.octet()
    r.octet(), r.octet()  # protocol_id, priority_flag
    r.c_string(), r.c_string()  # schedule_delivery_time, validity_period
    r.octet(), r.octet()  # registered_delivery, replace_if_present_flag
    data_coding = r.octet()
    r.octet()  # sm_default_msg_id
    short_message = r.octets(r.octet())
    return DeliverSm(source, destination, esm_class, data_coding, short_message, r.tlvs())
