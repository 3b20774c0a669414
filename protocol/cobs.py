"""Consistent Overhead Byte Stuffing: frames never contain 0x00, so 0x00 delimits them.

encode_into is allocation-free for the firmware's sampling path; encode/decode allocate
and serve commands on the device and everything on the host.
"""


def encode_into(src, n, dst, at=0):
    """COBS-encode src[0:n] into dst from index `at`, append the 0x00 delimiter.

    Returns the index just past the delimiter. dst must hold at + n + n // 254 + 2 bytes.
    """
    code_at = at
    out = at + 1
    code = 1
    for i in range(n):
        byte = src[i]
        if byte == 0:
            dst[code_at] = code
            code_at = out
            out += 1
            code = 1
        else:
            dst[out] = byte
            out += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at = out
                out += 1
                code = 1
    dst[code_at] = code
    dst[out] = 0
    return out + 1


def encode(data):
    """COBS-encode data; the result has no 0x00 and no delimiter."""
    dst = bytearray(len(data) + len(data) // 254 + 2)
    end = encode_into(data, len(data), dst)
    return bytes(dst[: end - 1])


def decode(data):
    """Decode one COBS block (no delimiter). Returns bytes, or None if it is malformed."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            return None
        end = i + code
        if end > n:
            # The last block may not overrun the frame.
            return None
        out += data[i + 1 : end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)
