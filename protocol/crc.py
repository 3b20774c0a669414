"""CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over a frame's header and body.

CPython uses binascii.crc_hqx (C speed); MicroPython, which lacks it, uses the table.
Both give the same value; tests/protocol/test_protocol_golden.py holds them to it.
"""

from array import array

CRC_INIT = 0xFFFF


def _make_table():
    table = array("H", bytes(512))
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


_TABLE = _make_table()


def crc16_table(buf, start=0, end=-1, crc=CRC_INIT):
    """Table-driven CRC of buf[start:end] without slicing (no allocation)."""
    if end < 0:
        end = len(buf)
    table = _TABLE
    for i in range(start, end):
        crc = ((crc << 8) & 0xFF00) ^ table[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


try:
    from binascii import crc_hqx as _crc_hqx  # type: ignore[attr-defined]

    def crc16(buf, start=0, end=-1, crc=CRC_INIT):
        if end < 0:
            end = len(buf)
        return _crc_hqx(memoryview(buf)[start:end], crc)

except ImportError:
    crc16 = crc16_table
