"""Whole frames: 0x00 + COBS([version][msg_id][seq u16][body][crc u16]) + 0x00.

The leading delimiter costs one byte and means line noise before a frame ends up in a
block of its own, so it never spoils the frame that follows it.
"""

import struct

from protocol import cobs, schema
from protocol.crc import crc16
from protocol.messages import check_length

# Outcomes of parse(); the stream decoder counts each kind of drop.
OK = 0
ERR_FRAMING = 1
ERR_CRC = 2
ERR_SCHEMA = 3
ERR_UNKNOWN_ID = 4
ERR_LENGTH = 5
ERR_OVERSIZE = 6


def build(msg_id, seq, body):
    """Wire bytes of one frame, delimiter included."""
    raw = bytearray(struct.pack("<BBH", schema.PROTOCOL_VERSION, msg_id, seq & 0xFFFF))
    raw += body
    raw += struct.pack("<H", crc16(raw))
    return b"\x00" + cobs.encode(raw) + b"\x00"


def parse(block):
    """Parse one COBS block (delimiter stripped): (status, msg_id, seq, body)."""
    if len(block) > schema.MAX_WIRE:
        return ERR_OVERSIZE, 0, 0, b""
    raw = cobs.decode(block)
    if raw is None:
        return ERR_FRAMING, 0, 0, b""
    n = len(raw)
    if n < schema.HEADER_SIZE + schema.CRC_SIZE:
        return ERR_FRAMING, 0, 0, b""
    if n > schema.MAX_RAW:
        return ERR_OVERSIZE, 0, 0, b""
    if crc16(raw, 0, n - 2) != raw[n - 2] | (raw[n - 1] << 8):
        return ERR_CRC, 0, 0, b""
    if raw[0] != schema.PROTOCOL_VERSION:
        return ERR_SCHEMA, raw[1], 0, b""
    msg_id = raw[1]
    seq = raw[2] | (raw[3] << 8)
    body = raw[4 : n - 2]
    if msg_id not in schema.BY_ID:
        return ERR_UNKNOWN_ID, msg_id, seq, b""
    if not check_length(msg_id, len(body)):
        return ERR_LENGTH, msg_id, seq, b""
    return OK, msg_id, seq, body
