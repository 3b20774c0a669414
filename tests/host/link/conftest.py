"""Fixtures of the link tests: a scripted peer and a collector of the link's deliveries."""

import pytest

from tests.support.rigpeer import Collector, RigPeer


@pytest.fixture
def peer():
    """A RigPeer that answers HELLO and sends heartbeats."""
    p = RigPeer()
    yield p
    p.close()


@pytest.fixture
def got():
    """A Collector to add as a link listener."""
    return Collector()
