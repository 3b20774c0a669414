"""Topic names and message payloads: what a subscriber reads, defined once.

    PREFIX/SITE/service              {"site", "online"}                       retained, will
    PREFIX/SITE/RIG/status           the rig's link and device state          retained
    PREFIX/SITE/RIG/chN/run          the run's id, kind, state, progress, ... retained
    PREFIX/SITE/RIG/chN/progress     the live progress message of the run
    PREFIX/SITE/RIG/chN/samples      one stored batch: {"run_id", "columns", "rows"}
    PREFIX/SITE/RIG/chN/events       one event of the run, with its text
"""

from typing import Any

CHANNEL = 0  # a one-channel board's (and a run's unless it names another)
# The run fields a `run` message carries (the run as GET /api/runs/{id} gives it, without the
# parameters, calibration, device and notes, which a subscriber fetches once if it needs them).
RUN_FIELDS = ("rig", "kind", "state", "progress", "created_at", "started_at", "finished_at",
              "error", "summary", "sequence_id", "step_index", "checkup_of")


class Topics:
    """The topics of one service: PREFIX/SITE/..."""

    def __init__(self, prefix: str, site: str):
        self.base = "%s/%s" % (prefix, site)

    def service(self) -> str:
        return "%s/service" % self.base

    def status(self, rig: str) -> str:
        return "%s/%s/status" % (self.base, rig)

    def channel(self, rig: str, leaf: str, channel: int = CHANNEL) -> str:
        """leaf: run, progress, samples or events."""
        return "%s/%s/ch%d/%s" % (self.base, rig, channel, leaf)


def service_payload(site: str, online: bool) -> dict[str, Any]:
    return {"site": site, "online": online}


def run_payload(run: dict[str, Any]) -> dict[str, Any]:
    """A run as the live stream's `state` and `end` messages give it (Run.as_dict)."""
    out: dict[str, Any] = {"run_id": run["id"], "channel": run.get("channel", CHANNEL)}
    out.update((name, run.get(name)) for name in RUN_FIELDS)
    return out


def progress_payload(run_id: int, progress: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": run_id, **progress}


def samples_payload(run_id: int, batch: dict[str, Any]) -> dict[str, Any]:
    """The stored values of one batch: the rows as the live stream has them (not copied)."""
    return {"run_id": run_id, "columns": batch["columns"], "rows": batch["rows"]}


def status_payload(rig: Any) -> dict[str, Any]:
    """What a rig's `status` topic holds: rig is a host.rigs.Rig."""
    snapshot = rig.link.snapshot() if rig.link is not None else {"connected": False}
    return {"rig": rig.name, "connected": bool(snapshot.get("connected")),
            "link_state": snapshot.get("link_state"), "state": snapshot.get("state"),
            "active_run": rig.active_run_id,
            "active_runs": {str(channel): run_id
                            for channel, run_id in sorted(rig.active_runs.items())},
            "board_id": snapshot.get("board_id"),
            "firmware_version": snapshot.get("firmware_version"),
            "simulated": rig.sim is not None}
