# Runs under the MicroPython unix port: the checked-in golden vectors must encode and
# decode to the same bytes and values as on CPython.  Prints one line per failure and
# a last line "ok N" or "FAIL N".
import binascii
import json
import sys

from protocol import frame, messages, schema
from protocol.decoder import StreamDecoder
from protocol.writer import FrameWriter, SampleBatcher

path = sys.argv[1]
with open(path) as f:
    golden = json.load(f)

failures = 0
if golden["schema_hash"] != schema.SCHEMA_HASH:
    print("schema hash", schema.SCHEMA_HASH, "!= golden", golden["schema_hash"])
    failures += 1

for vec in golden["vectors"]:
    tail = vec["tail"]
    if isinstance(tail, str):
        tail = tail.encode()
    elif tail is not None:
        tail = [tuple(r) for r in tail]
    wire = frame.build(vec["msg_id"], vec["seq"], messages.pack(vec["msg_id"], vec["values"], tail))
    expected = binascii.unhexlify(vec["wire_hex"])
    if wire != expected:
        print("encode differs:", vec["name"])
        failures += 1
    out = StreamDecoder().feed(expected)
    if len(out) != 1:
        print("decode failed:", vec["name"])
        failures += 1
        continue
    msg_id, seq, body = out[0]
    head, got_tail = messages.unpack(msg_id, body)
    if list(head) != vec["values"] or seq != vec["seq"]:
        print("values differ:", vec["name"])
        failures += 1
    if vec["msg_id"] == schema.SAMPLE_BATCH:
        sent = []
        writer = FrameWriter(lambda buf, n, sent=sent: sent.append(bytes(buf)[:n]))
        writer.seq = vec["seq"]
        batcher = SampleBatcher(writer)
        for record in tail:
            batcher.add(vec["values"][0], vec["values"][1], *record)
        batcher.flush(vec["values"][2])
        if sent != [expected]:
            print("FrameWriter bytes differ from frame.build for SAMPLE_BATCH")
            failures += 1

print(("FAIL %d" if failures else "ok %d") % (failures or len(golden["vectors"])))
