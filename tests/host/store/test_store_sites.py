"""The lab's shared records on SQLite and PostgreSQL: a site name and a rig name are held by
one online service at a time, a stopped or silent site lets them go, a board keeps one rig
name in the lab, and times are the database's."""

import os
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from host.store import ClaimRefused, Store
from host.store.sites import OFFLINE_AFTER_S
from host.store.tables import sites


def _silence(store: Store, site: str, seconds: float) -> None:
    """Make the site's last heartbeat `seconds` old, as a service that died would leave it."""
    with store._write() as conn:
        beat = conn.execute(sa.select(sites.c.heartbeat_at).where(sites.c.name == site)
                            ).scalar_one()
        conn.execute(sites.update().where(sites.c.name == site).values(
            heartbeat_at=beat - timedelta(seconds=seconds)))


def test_a_site_name_is_refused_to_a_second_service_while_the_first_is_online(store):
    store.register_site("bench-a", "first", "http://10.0.0.5:8000")
    with pytest.raises(ClaimRefused, match=r"site 'bench-a' is online.*10\.0\.0\.5"):
        store.register_site("bench-a", "second", None)
    store.register_site("bench-a", "first", "http://10.0.0.5:8000")  # the same service again
    (site,) = store.list_sites()
    assert site.online and 0 <= site.heartbeat_age_s < 2


def test_a_stopped_or_silent_site_can_be_taken_over(store):
    store.register_site("bench-a", "first", None)
    store.stop_site("bench-a", "first")
    assert not store.list_sites()[0].online
    store.register_site("bench-a", "second", None)
    assert not store.beat_site("bench-a", "first", {}), "the first lost its site"
    assert store.beat_site("bench-a", "second", {})
    _silence(store, "bench-a", OFFLINE_AFTER_S + 1)
    site = store.list_sites()[0]
    assert not site.online and site.heartbeat_age_s > OFFLINE_AFTER_S
    store.register_site("bench-a", "third", None)
    assert store.list_sites()[0].online


def test_a_rig_name_is_unique_in_the_lab_while_its_site_is_online(store):
    store.register_site("bench-a", "a", None)
    store.register_site("bench-b", "b", None)
    assert store.claim_rig("G1-left", "/dev/ttyACM0", "bench-a").site == "bench-a"
    with pytest.raises(ClaimRefused, match="rig 'G1-left' is served by site 'bench-a'"):
        store.claim_rig("G1-left", "/dev/ttyACM1", "bench-b")
    store.claim_rig("G1-left", "/dev/ttyACM0", "bench-a")  # a restart of its own site
    store.stop_site("bench-a", "a")
    moved = store.claim_rig("G1-left", "/dev/ttyACM1", "bench-b")
    assert (moved.site, moved.spec) == ("bench-b", "/dev/ttyACM1")


def test_the_heartbeat_writes_the_state_of_the_sites_own_rigs_only(store):
    store.register_site("bench-a", "a", None)
    store.register_site("bench-b", "b", None)
    store.claim_rig("r1", "sim:G1", "bench-a")
    store.claim_rig("r2", "sim:film", "bench-b")
    assert store.beat_site("bench-a", "a", {"r1": {"connected": True}, "r2": {"x": 1}})
    status = {rig.name: (rig.status, site.name) for rig, site in store.lab_rigs()}
    assert status == {"r1": ({"connected": True}, "bench-a"), "r2": (None, "bench-b")}


def test_a_board_keeps_one_rig_name_in_the_lab(store):
    store.register_site("bench-a", "a", None)
    store.claim_rig("r1", "/dev/ttyACM0", "bench-a")
    store.claim_rig("r2", "/dev/ttyACM1", "bench-a")
    assert store.note_board("r1", "e6614103e7452d2f") is None
    assert store.rig_named_by_board("e6614103e7452d2f") == "r1"
    assert store.note_board("r2", "e6614103e7452d2f") == "r1"  # moved to the other port
    assert store.rig_named_by_board("e6614103e7452d2f") == "r2"
    assert store.get_rig("r1").board_id is None


def test_a_site_held_by_a_process_of_this_computer_that_is_gone_is_taken_at_once(store):
    """A service killed and started again at once keeps its site (no 15 s wait): the holder's
    process is known dead; a living holder is still refused."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    store.register_site("bench-a", "killed", None, "this-pc", gone.pid)
    store.register_site("bench-a", "restarted", None, "this-pc", os.getpid())
    with pytest.raises(ClaimRefused, match=r"process \d+ on this-pc"):
        store.register_site("bench-a", "third", None, "this-pc", os.getpid() + 10**6)
    with pytest.raises(ClaimRefused):
        store.register_site("bench-a", "elsewhere", None, "other-pc", gone.pid)


def test_a_command_is_taken_once_and_its_answer_read_back(store):
    store.register_site("bench-a", "a", None)
    first = store.add_command("bench-a", "office", "start_run", {"rig": "r1"})
    second = store.add_command("bench-a", "office", "abort_run", {"run_id": 3})
    assert store.take_commands("bench-b") == []
    taken = store.take_commands("bench-a")
    assert [(c.id, c.action, c.body, c.from_site) for c in taken] == [
        (first, "start_run", {"rig": "r1"}, "office"), (second, "abort_run", {"run_id": 3},
                                                         "office")]
    assert all(0 <= c.age_s < 5 for c in taken)
    assert store.take_commands("bench-a") == [], "each is taken once"
    assert store.command_answer(first) is None
    store.answer_command(first, 409, {"detail": "rig r1 is busy"})
    assert store.command_answer(first) == (409, {"detail": "rig r1 is busy"})
