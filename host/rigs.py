"""The rigs a service owns: each one's link, its simulator when it is simulated, its state.

A rig is opened in the service's lifespan and closed with it. Only the RigLink touches the
serial port; everything else asks the link (snapshot, stats, commands).
"""

import asyncio
import logging
from typing import Any, Protocol

from host import simulated
from host.link import RigLink
from host.runkey import board_text
from host.settings import RigSpec
from host.store import Store

log = logging.getLogger(__name__)

# What the run manager counts of a rig's missing samples (GET /api/rigs/{rig} `recovery`).
RECOVERY_COUNTS = ("samples_missing", "samples_lost", "resend_requests", "resend_refused")


class FollowedRun(Protocol):
    """The run followed on a channel as the rig card shows it (a host.runs Tracker)."""

    def channel_view(self) -> dict[str, Any]:
        """{device, trend, t_values} (GET /api/rigs/{rig} `device.channels`)."""
        ...


def no_run_view() -> dict[str, Any]:
    """channel_view() of a channel no run of this service is followed on."""
    return {"device": None, "trend": [], "t_values": {}}


class Rig:
    """One rig: spec, link, optional simulator, the run it is busy with.

    board_id: the board behind the port as its last handshake said (None before one).
    orphans: by channel, a run the board holds there that this service never started
    (channel, run key, mode, state, next_seq), shown until it is imported or the board holds
    another run on that channel (a stopped orphan stays, idle, and can still be imported).
    down_since: monotonic time the link was first seen down, None while it is up.
    """

    def __init__(self, spec: RigSpec):
        self.spec = spec
        self.name = spec.name
        self.sim = None
        self.link: RigLink | None = None
        # channel -> the run this service follows there (a board of cards runs one per channel)
        self.active_runs: dict[int, int] = {}
        self.followed: dict[int, FollowedRun] = {}  # channel -> that run (as active_runs)
        self.last_sample: dict[str, Any] | None = None
        self.last_samples: dict[int, dict[str, Any]] = {}  # by channel
        self.board_id: int | None = None
        self.orphans: dict[int, dict[str, Any]] = {}  # by channel
        self.down_since: float | None = None
        self.ingest_error: str | None = None  # the last samples that could not be stored
        # The board's last self-test result (host.selftest.report) and the one in flight.
        self.selftest: dict[str, Any] | None = None
        self.selftest_task: asyncio.Task | None = None
        # The run manager's recovery of missing samples on this rig (host/runs/recovery.py).
        self.recovery = dict.fromkeys(RECOVERY_COUNTS, 0)

    def open(self, store: Store) -> None:
        """Start the simulator if any, make the link (not started yet), register the rig (and
        its calibration)."""
        url = self.spec.spec
        store.upsert_rig(self.name, self.spec.spec)
        if simulated.is_sim_spec(url):
            self.sim = simulated.make_rig(url)
            self.sim.start()
            url = self.sim.port
            if store.get_calibration(self.name) is None:
                # A lab measures its photodiode geometry, responsivity and the device's EL
                # spectrum once; a simulated rig knows them from its preset.
                calibration = simulated.calibration(self.sim.preset)
                store.set_calibration(self.name, calibration.model_dump(mode="json"))
        # Not started here: RunManager.start() starts it once it listens, so the first
        # Connected (a running rig's HELLO_ACK after a service restart) is not missed.
        self.link = RigLink(self.name, url, start=False)

    @property
    def active_run_id(self) -> int | None:
        """A run the rig is busy with (the lowest channel's), None when every channel is free:
        what needs the whole board (a self-test, a pixel swap) waits for None."""
        return self.active_runs[min(self.active_runs)] if self.active_runs else None

    @property
    def orphan(self) -> dict[str, Any] | None:
        """The lowest channel's orphan, None when no channel holds one: what a client that
        knows one run per rig reads (`orphan_run`)."""
        return self.orphans[min(self.orphans)] if self.orphans else None

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        if self.sim is not None:
            self.sim.stop()

    def describe(self) -> dict[str, Any]:
        """GET /api/rigs/{rig}: connection, firmware, state, flags, last sample, link stats,
        recovery of missing samples, the last self-test."""
        link = self.link
        snapshot: dict[str, Any] = link.snapshot() if link else {"connected": False}
        channels: list[dict[str, Any]] = snapshot.get("channels") or []
        for channel in channels:
            channel["run"] = self.active_runs.get(channel["channel"])
            channel["last_sample"] = self.last_samples.get(channel["channel"])
            followed = self.followed.get(channel["channel"])
            channel.update(followed.channel_view() if followed else no_run_view())
        out = {
            "name": self.name,
            "spec": self.spec.spec,
            "simulated": self.sim is not None,
            "connected": bool(snapshot.get("connected")),
            "device": snapshot,
            "link": link.stats() if link else {},
            "recovery": dict(self.recovery),
            "board_id": board_text(self.board_id),
            "active_run": self.active_run_id,
            "active_runs": {str(channel): run_id
                            for channel, run_id in sorted(self.active_runs.items())},
            "orphan_run": self.orphan,
            "orphan_runs": [orphan for _, orphan in sorted(self.orphans.items())],
            "ingest_error": self.ingest_error,
            "selftest": self.selftest,
            "last_sample": self.last_sample,
        }
        if self.sim is not None:
            out["simulator"] = {"preset": self.sim.preset, "accel": self.sim.accel,
                                "spread": self.sim.spread, "channels": self.sim.channels,
                                "stats": self.sim.stats}
        return out


def channel_text(rig_name: str, channel: int) -> str:
    """How a message names a rig's channel: "rig rig1" for channel 0 (all a one-channel
    board has), "rig rig1 channel 3" for another."""
    return "rig %s" % rig_name if channel == 0 else "rig %s channel %d" % (rig_name, channel)
