"""Test sequences: start one (validated whole first), list, inspect, abort."""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query

from host.api.deps import control_access, read_access, service
from host.api.responses import NOT_FOUND, REFUSED
from host.sequences.spec import SequenceRequest
from host.sequences.view import sequence_item, sequence_view
from host.store.records import SEQUENCE_STATES

router = APIRouter(prefix="/api")
SequenceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="sequence id")]
SequenceState = Literal[SEQUENCE_STATES]  # type: ignore[valid-type]


async def _view(svc: Any, sequence_id: int) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        sequence = svc.store.get_sequence(sequence_id)
        return sequence_view(sequence, svc.store.sequence_runs(sequence_id))
    return await asyncio.to_thread(read)


@router.post("/sequences", status_code=201, dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED)
async def start_sequence(request: Annotated[SequenceRequest, Body()],
                         svc=Depends(service)) -> dict[str, Any]:
    """Start a test sequence on a free rig: its steps run in order (each run linked by
    sequence_id and step_index; a check-up by checkup_of). Every step is validated before
    anything starts: a 422 names the step and field (`steps.N.KIND.params.FIELD`)."""
    sequence = await svc.sequences.create(request)
    return await _view(svc, sequence.id)


@router.get("/sequences", dependencies=[Depends(read_access)])
async def list_sequences(
        svc=Depends(service),
        rig: Annotated[str | None, Query(max_length=64, description="on this rig")] = None,
        state: Annotated[SequenceState | None, Query(description="in this state")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="how many")] = 100,
) -> dict[str, Any]:
    """Sequences, newest first: {"sequences": [...]} without their steps' runs."""
    found = await asyncio.to_thread(svc.store.list_sequences, rig=rig, state=state,
                                    limit=limit)
    return {"sequences": [sequence_item(s) for s in found]}


@router.get("/sequences/{sequence_id}", dependencies=[Depends(read_access)],
            responses=NOT_FOUND)
async def get_sequence(sequence_id: SequenceId, svc=Depends(service)) -> dict[str, Any]:
    """A sequence: its request (`spec`), state, current step and check-up `phase`, each
    step's state and run, and every run made for it."""
    return await _view(svc, sequence_id)


@router.post("/sequences/{sequence_id}/abort", dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED)
async def abort_sequence(sequence_id: SequenceId, svc=Depends(service)) -> dict[str, Any]:
    """Abort the step that runs (and a stress paused for its check-up); the steps after it
    never start. 409 when the sequence has ended."""
    await svc.sequences.abort(sequence_id)
    return await _view(svc, sequence_id)
