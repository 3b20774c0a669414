"""A host end of the simulated rig's pty that keeps the raw bytes and decodes the frames in them."""

import time

import serial

from protocol import frame, messages


class PtyHost:
    """Raw bytes and decoded frames from the device, in arrival order."""

    def __init__(self, port):
        self.port = serial.Serial(port, timeout=0.05)
        self.raw = bytearray()

    def close(self):
        self.port.close()

    def send(self, msg_id, values):
        self.port.write(frame.build(msg_id, 0, messages.pack(msg_id, values)))

    def frames(self):
        """Every complete frame so far as (block index, msg_id, head, tail); blocks are the
        0x00-separated pieces of the raw stream, so an empty block is a lone delimiter."""
        out = []
        blocks = bytes(self.raw).split(b"\x00")[:-1]
        for index, block in enumerate(blocks):
            if not block:
                continue
            status, msg_id, _seq, body = frame.parse(block)
            if status == frame.OK:
                head, tail = messages.unpack(msg_id, body)
                out.append((index, msg_id, head, tail))
        return out, blocks

    def wait(self, accept, timeout_s=30.0, what="a frame"):
        """The first frame (block index, msg_id, head, tail) that accept(msg_id, head) takes."""
        return self.wait_frame(lambda m, h, _t: accept(m, h), timeout_s, what)

    def wait_frame(self, accept, timeout_s=30.0, what="a frame"):
        """The first frame that accept(msg_id, head, tail) takes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.raw += self.port.read(4096)
            found = [f for f in self.frames()[0] if accept(f[1], f[2], f[3])]
            if found:
                return found[0]
        raise AssertionError(f"no {what} within {timeout_s:.0f} s")
