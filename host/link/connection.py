"""The one place that opens, reads, writes and closes a rig's serial port (pyserial URLs)."""

import select

import serial  # type: ignore[import-untyped]

from protocol import frame

BAUDRATE = 115200  # the Pico's USB CDC and a pty ignore it; a UART bridge does not
READ_CHUNK = 65536
PortError = (serial.SerialException, OSError)


class Connection:
    """An open port plus the host's outgoing frame counter.

    Used by the link's I/O thread only. Any failure surfaces as serial.SerialException or
    OSError (PortError), which the link treats as "the port is gone".
    """

    def __init__(self, url: str, read_timeout_s: float = 0.02, write_timeout_s: float = 2.0,
                 baudrate: int = BAUDRATE) -> None:
        # serial_for_url takes device paths, pty paths, socket://host:port and loop://.
        # exclusive: a second opener of the same device fails instead of stealing bytes.
        # timeout=0: reads return what has arrived; the wait happens in select() below.
        self.port = serial.serial_for_url(url, baudrate=baudrate, timeout=0,
                                          write_timeout=write_timeout_s, exclusive=True)
        self.url = url
        self.read_timeout_s = read_timeout_s
        try:
            self._fd: int | None = self.port.fileno()
        except (AttributeError, OSError, ValueError):  # loop:// and other fd-less handlers
            self._fd = None
            self.port.timeout = read_timeout_s
        self._tx_seq = 0
        self.frames_sent = 0
        self.bytes_sent = 0

    def read_some(self) -> bytes:
        """Whatever has arrived, waiting at most the read timeout for the first byte."""
        port = self.port
        if self._fd is None:
            data = port.read(max(1, port.in_waiting))
            waiting = port.in_waiting if data else 0
            return bytes(data + port.read(waiting)) if waiting else bytes(data)
        ready, _, _ = select.select([self._fd], [], [], self.read_timeout_s)
        # Readable but empty is the end of the port: pyserial raises SerialException then.
        return bytes(port.read(READ_CHUNK)) if ready else b""

    def send(self, msg_id: int, body: bytes, lead_zero: bool = False) -> int:
        """Frame and write one message; lead_zero first writes a lone 0x00 (resynchronise)."""
        wire_bytes = frame.build(msg_id, self._tx_seq, body)
        if lead_zero:
            wire_bytes = b"\x00" + wire_bytes
        self._tx_seq = (self._tx_seq + 1) & 0xFFFF
        self.port.write(wire_bytes)
        self.frames_sent += 1
        self.bytes_sent += len(wire_bytes)
        return len(wire_bytes)

    def close(self) -> None:
        try:
            self.port.close()
        except PortError:
            pass
