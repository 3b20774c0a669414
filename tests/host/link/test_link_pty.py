"""RigLink on a real pseudo-terminal: the way it opens a Pico's USB port or hil_sim's pty."""

import os
import pty
import select
import termios
import threading
import tty

from host.link import Disconnected, RigLink, wire
from protocol import frame, schema
from protocol.decoder import StreamDecoder
from tests.support.rigpeer import Collector, hello_ack_fields, with_channel_record
from tests.support.waiting import wait_for


class PtyRig:
    """The device end of a raw pty: answers HELLO, sends what a test asks for."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave, termios.TCSANOW)
        self.path = os.ttyname(slave)
        os.close(slave)
        self.received: list[wire.WireMessage] = []
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def send(self, msg: str, **fields: int) -> None:
        model = wire.model_for(msg)
        os.write(self.master, frame.build(model.msg_id, self._seq, wire.encode(model(**fields))))
        self._seq += 1

    def unplug(self) -> None:
        """Close the device end: the host's next read of the pty fails."""
        self._stop.set()
        self._thread.join(2.0)
        os.close(self.master)

    def _serve(self) -> None:
        decoder = StreamDecoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:  # nobody has the slave open right now
                continue
            for msg_id, _seq, body in decoder.feed(data):
                message = wire.decode(msg_id, body)
                self.received.append(message)
                if msg_id == schema.HELLO:
                    self.send("HELLO_ACK", **with_channel_record(
                        hello_ack_fields(session_id=message.session_id)))
                elif msg_id == schema.GET_STATUS:
                    self.send("ACK", cmd_id=message.cmd_id, of_msg=schema.GET_STATUS)


def test_link_handshakes_and_commands_over_a_pty():
    rig = PtyRig()
    try:
        with RigLink("rig1", rig.path, command_timeout_s=0.3) as link:
            assert link.wait_connected(5.0)
            assert link.command("GET_STATUS").ok
            assert link.snapshot()["firmware_version"] == "1.2.3"
    finally:
        rig.unplug()


def test_unplugged_pty_is_reported_and_the_link_keeps_trying():
    rig = PtyRig()
    got = Collector()
    with RigLink("rig1", rig.path, backoff_initial_s=0.05) as link:
        link.add_listener(got)
        assert link.wait_connected(5.0)
        rig.unplug()
        wait_for(lambda: got.of(Disconnected), 30, "Disconnected")
        assert got.of(Disconnected)[0].reason.startswith("port error")
        wait_for(lambda: link.state == "disconnected"
                 and "cannot open" in (link.snapshot()["detail"] or ""), 30, "a failed reopen")
        assert not link.connected
