"""Wire codec figures: payload efficiency, samples/s at 115200 baud vs JSON lines, CPU cost."""

import json
import random
import time

from protocol import messages, schema
from protocol.decoder import StreamDecoder
from protocol.writer import FrameWriter, SampleBatcher

BAUD = 115200
BYTES_PER_S = BAUD / 10  # 8N1: ten bit times per byte


def _samples(n, seed=1):
    """Samples shaped like a G1 lifetime run at 10 V (values in the firmware's integer units),
    as tuples in schema.SAMPLE_NAMES order."""
    rng = random.Random(seed)
    out = []
    for seq in range(n):
        t_us_total = seq * 1_000_000 + rng.randrange(200)
        sample = {
            "seq": seq, "t_s": t_us_total // 1_000_000, "t_us": t_us_total % 1_000_000,
            "setpoint_mv": 10000, "voltage_mv": 9990 + rng.randrange(20),
            "current_na": 470_000 + rng.randrange(5000),
            "pd_pa": int(45_000 * (0.5 ** (seq / 630))) + rng.randrange(100),
            "temperature_cc": 2600 + rng.randrange(10), "humidity_cpct": 6000 + rng.randrange(30),
            "pd_range": 2, "flags": 0b1001,
        }
        out.append(tuple(sample[name] for name in schema.SAMPLE_NAMES))
    return out


def _encode_all(samples):
    chunks = []
    writer = FrameWriter(lambda buf, n: chunks.append(bytes(buf[:n])))
    batcher = SampleBatcher(writer)
    for sample in samples:
        batcher.add(1, 0, *sample)
    batcher.flush()
    return b"".join(chunks)


def _jsonl(samples):
    return "".join(json.dumps(dict(zip(schema.SAMPLE_NAMES, s)), separators=(",", ":")) + "\n"
                   for s in samples).encode()


def run(n=40_000):
    samples = _samples(n)
    wire = _encode_all(samples)
    jsonl = _jsonl(samples)
    useful = n * schema.SAMPLE_SIZE
    ours_per_s = BYTES_PER_S / (len(wire) / n)
    json_per_s = BYTES_PER_S / (len(jsonl) / n)

    t0 = time.perf_counter()
    _encode_all(samples)
    encode_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    decoder = StreamDecoder()
    count = 0
    for msg_id, _seq, body in decoder.feed(wire):
        count += len(messages.unpack(msg_id, body)[1])
    decode_s = time.perf_counter() - t0
    assert count == n and decoder.stats["frames"] == -(-n // schema.MAX_SAMPLES_PER_BATCH)

    t0 = time.perf_counter()
    parsed = [json.loads(line) for line in jsonl.splitlines()]
    json_decode_s = time.perf_counter() - t0
    assert len(parsed) == n

    return {
        "codec_payload_ratio": {"value": useful / len(wire), "unit": "", "goal": ">= 0.90"},
        "codec_samples_per_s_at_115200": {"value": ours_per_s, "unit": "samples/s"},
        "codec_jsonl_samples_per_s_at_115200": {"value": json_per_s, "unit": "samples/s"},
        "codec_vs_jsonl_ratio": {"value": ours_per_s / json_per_s, "unit": "x", "goal": ">= 4"},
        "codec_encode_samples_per_s": {"value": n / encode_s, "unit": "samples/s (CPython)"},
        "codec_decode_samples_per_s": {"value": n / decode_s, "unit": "samples/s (CPython)"},
        "codec_jsonl_decode_samples_per_s": {"value": n / json_decode_s,
                                             "unit": "samples/s (CPython)"},
    }
