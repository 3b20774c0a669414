"""`lumenrig show`: one run for people: state, device and labels, parameters and summary with
their units, and its events."""

from typing import Any

from host.cli.words import DASH, local_time, quantity, words

DEVICE_FIELDS = (("name", "name"), ("sample_id", "sample"), ("pixel", "pixel"),
                 ("batch", "batch"), ("structure", "structure"), ("area_mm2", "area"))


def _aligned(pairs: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(label) for label, _ in pairs), default=0)
    return ["%s%-*s  %s" % (indent, width, label, value) for label, value in pairs]


def _heading(run: dict[str, Any]) -> list[str]:
    state = run["state"]
    if state in ("queued", "running"):
        state += " (%d %% done)" % round(100 * (run.get("progress") or 0))
    where = run["rig"] if not run.get("channel") else "%s channel %d" % (run["rig"],
                                                                        run["channel"])
    lines = ["run %d: %s on %s, %s" % (run["id"], run["kind"], where, state),
             "created %s, started %s, finished %s" % tuple(
                 local_time(run.get(k), seconds=True)
                 for k in ("created_at", "started_at", "finished_at")),
             "run key %s, board %s, calibration %s" % tuple(
                 run.get(k) or DASH for k in ("run_key", "board_id", "calibration_id"))]
    if run.get("error"):
        lines.append("error: %s" % run["error"])
    if run.get("imported"):
        lines.append("imported from a board that ran it for another service: its parameters "
                     "are partly unknown")
    if run.get("archived"):
        lines.append("archived: hidden from lists (`lumenrig runs --archived` shows it)")
    return lines


def _labels(run: dict[str, Any]) -> list[str]:
    device = run.get("device") or {}
    given = ["%s %s" % (label, quantity(field, device[field]))
             for field, label in DEVICE_FIELDS if device.get(field) is not None]
    lines = ["device: %s" % (", ".join(given) or "not given"),
             "operator: %s" % (run.get("operator") or DASH),
             "tags: %s" % (", ".join(run.get("tags") or ()) or DASH)]
    notes = (run.get("notes") or "").splitlines()
    lines.append("notes: %s" % (notes[0] if notes else DASH))
    lines += ["       " + line for line in notes[1:]]
    return lines


def _params(run: dict[str, Any]) -> list[str]:
    pairs = [(name, quantity(name, value, digits=6))
             for name, value in (run.get("params") or {}).items() if value is not None]
    return ["parameters:"] + _aligned(pairs)


def _summary(run: dict[str, Any]) -> list[str]:
    summary = run.get("summary")
    if not summary:
        return ["summary: none yet" if run["state"] in ("queued", "running") else
                "summary: none"]
    pairs = [(words(name), quantity(name, value))
             for name, value in summary.items() if name != "notes"]
    notes = ["  note: %s" % note for note in summary.get("notes") or ()]
    return ["summary:"] + _aligned(pairs) + notes


def _events(run: dict[str, Any]) -> list[str]:
    events = run.get("events") or []
    pairs = [(local_time(e.get("t"), seconds=True),
              e.get("text") or e.get("message") or e.get("name") or "") for e in events]
    return ["events (%d):" % len(events)] + _aligned(pairs)


def describe(run: dict[str, Any]) -> str:
    """GET /api/runs/{id} as text, in sections separated by blank lines."""
    sections = (_heading(run) + _labels(run), _params(run), _summary(run), _events(run))
    return "\n\n".join("\n".join(lines) for lines in sections)
