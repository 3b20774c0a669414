"""Checked-in byte vectors pin the wire format on CPython and on the MicroPython VM."""

import json

import pytest

from protocol import frame, messages, schema
from protocol.crc import crc16, crc16_table
from protocol.decoder import StreamDecoder
from protocol.writer import FrameWriter, SampleBatcher
from tests.support.mpy import run_micropython
from tests.support.paths import DATA, SUPPORT

GOLDEN = DATA / "protocol_golden.json"
VECTORS = json.loads(GOLDEN.read_text())


def _tail(vec):
    tail = vec["tail"]
    if isinstance(tail, str):
        return tail.encode()
    return None if tail is None else [tuple(r) for r in tail]


def test_schema_hash_matches_the_golden_file():
    assert VECTORS["schema_hash"] == schema.SCHEMA_HASH, (
        "the schema changed: bump PROTOCOL_VERSION and regenerate with "
        "scripts/make_golden_vectors.py if the wire change is deliberate")


def test_golden_vectors_cover_every_message():
    assert {v["msg_id"] for v in VECTORS["vectors"]} == set(schema.BY_ID)


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["name"])
def test_encoding_matches_golden_bytes(vec):
    body = messages.pack(vec["msg_id"], vec["values"], _tail(vec))
    assert frame.build(vec["msg_id"], vec["seq"], body).hex() == vec["wire_hex"]


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["name"])
def test_golden_bytes_decode_to_golden_values(vec):
    [(msg_id, seq, body)] = StreamDecoder().feed(bytes.fromhex(vec["wire_hex"]))
    head, tail = messages.unpack(msg_id, body)
    assert (msg_id, seq, list(head)) == (vec["msg_id"], vec["seq"], vec["values"])
    assert (tail if not isinstance(tail, list) else [tuple(r) for r in tail]) == _tail(vec)


def test_frame_writer_produces_the_same_bytes_as_frame_build():
    vec = next(v for v in VECTORS["vectors"] if v["msg_id"] == schema.SAMPLE_BATCH)
    sent = []
    writer = FrameWriter(lambda buf, n: sent.append(bytes(buf[:n])))
    writer.seq = vec["seq"]
    batcher = SampleBatcher(writer)
    for record in _tail(vec):
        batcher.add(vec["values"][0], vec["values"][1], *record)
    batcher.flush(vec["values"][2])
    assert [s.hex() for s in sent] == [vec["wire_hex"]]


def test_table_crc_equals_the_c_crc():
    data = bytes(range(256)) * 3 + b"lumenrig"
    assert crc16_table(data) == crc16(data)
    assert crc16_table(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


@pytest.mark.micropython
def test_micropython_vm_encodes_and_decodes_the_golden_vectors():
    result = run_micropython(SUPPORT / "mpy_protocol_check.py", [str(GOLDEN)])
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip().splitlines()[-1] == "ok %d" % len(VECTORS["vectors"])
