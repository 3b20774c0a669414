"""Writes tests/data/protocol_golden.json: one frame per message type, fixed values.

Run only on a deliberate wire change (and bump PROTOCOL_VERSION); the tests compare
both CPython and MicroPython encodings against the checked-in file.
"""

import json
from pathlib import Path

from protocol import frame, messages, schema

RANGES = {"B": 0xFF, "b": 0x7F, "H": 0xFFFF, "h": 0x7FFF, "I": 0xFFFFFFFF, "i": 0x7FFFFFFF,
          "Q": 0xFFFFFFFFFFFFFFFF, "q": 0x7FFFFFFFFFFFFFFF}


def _value(code, k):
    """A deterministic value that exercises sign and width of the code."""
    top = RANGES[code]
    value = (k * 2654435761 + 12345) % (top + 1)
    if code in "bhiq" and k % 2:
        value = -value
    if code in "bhiq" and value == -0:
        value = 0
    return value


def vectors():
    out = []
    for k, (msg_id, name, fields, tail) in enumerate(schema.MESSAGES):
        values = [_value(f[1], k * 31 + j) for j, f in enumerate(fields)]
        tail_value = None
        if tail is not None and tail[0] == "records":
            tail_value = [[_value(f[1], k * 7 + r * 13 + j) for j, f in enumerate(tail[1])]
                          for r in range(3)]
        elif tail is not None:
            tail_value = "level 2: shutter closed in 48 ms"
        tail_arg = tail_value.encode() if isinstance(tail_value, str) else tail_value
        seq = (k * 4099) & 0xFFFF
        wire = frame.build(msg_id, seq, messages.pack(msg_id, values, tail_arg))
        out.append({"name": name, "msg_id": msg_id, "seq": seq, "values": values,
                    "tail": tail_value, "wire_hex": wire.hex()})
    return out


if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "tests" / "data" / "protocol_golden.json"
    path.write_text(json.dumps({"schema_hash": schema.SCHEMA_HASH, "vectors": vectors()},
                               indent=1) + "\n")
    print("wrote", path)
