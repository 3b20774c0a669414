"""A sequence as the API, the CLI and the dashboard show it: its steps with their runs."""

from typing import Any

from host.sequences.spec import SequenceRequest
from host.store.records import Run, Sequence


def step_views(sequence: Sequence, runs: list[Run]) -> list[dict[str, Any]]:
    """Each step: its kind, its state, its run (the last one made for it) and check-ups."""
    steps = SequenceRequest.model_validate(sequence.spec).steps
    out = []
    for index, step in enumerate(steps):
        mine = [r for r in runs if r.step_index == index and r.checkup_of is None]
        run = mine[-1] if mine else None
        checkups = [r.id for r in runs if run is not None and r.checkup_of == run.id]
        if run is not None:
            state = run.state
        elif index < sequence.step_index:
            state = "completed"  # a wait
        elif index == sequence.step_index and sequence.state == "running":
            state = "waiting" if step.kind == "wait" else "starting"
        else:
            state = "pending"
        view: dict[str, Any] = {"index": index, "kind": step.kind, "state": state,
                                "run_id": None if run is None else run.id,
                                "checkups": checkups}
        if step.kind == "wait":
            view["duration_s"] = step.duration_s
        out.append(view)
    return out


def sequence_view(sequence: Sequence, runs: list[Run]) -> dict[str, Any]:
    """The sequence (its request as `spec`), its steps and every run made for it."""
    out = sequence.as_dict()
    out["name"] = sequence.spec.get("name")
    out["steps"] = step_views(sequence, runs)
    out["phase"] = sequence.cursor.get("phase")
    out["runs"] = [r.as_dict(calibration=False) for r in runs]
    return out


def sequence_item(sequence: Sequence) -> dict[str, Any]:
    """A sequence as lists show it: no spec, no runs."""
    out = sequence.as_dict()
    out["name"] = sequence.spec.get("name")
    out["steps"] = len(sequence.spec.get("steps") or ())
    del out["spec"], out["cursor"]
    return out
