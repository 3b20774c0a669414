"""The scripted rig peer (tests/support/rigpeer.py) decodes what the link's serial layer writes."""

import serial

from protocol import frame, messages, schema
from tests.support.rigpeer import RigPeer


def test_peer_decodes_what_a_pyserial_socket_url_writes():
    peer = RigPeer(auto_hello=False)
    port = serial.serial_for_url(peer.url, timeout=0.1)
    try:
        port.write(frame.build(schema.GET_STATUS, 0, messages.pack(schema.GET_STATUS, (42, 0))))
        assert peer.expect("GET_STATUS").cmd_id == 42
    finally:
        port.close()
        peer.close()

