"""Runs: start, list, inspect, abort, samples (JSON, CSV), live stream, plot."""

import asyncio
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from host.api.deps import control_access, read_access, service
from host.api.livestream import LiveStream
from host.plotting.cache import plot_rows
from host.runs import exports
from host.runs.kinds import KINDS, RunRequest
from host.store import RigNotFound
from host.store.columns import CSV_COLUMNS, json_rows
from host.store.records import RUN_STATES

router = APIRouter(prefix="/api")
# Run ids are the store's INTEGER keys (32 bits on PostgreSQL): a larger id is refused here,
# not passed to a driver that cannot bind it.
RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="run id")]
RunState = Literal[RUN_STATES]  # type: ignore[valid-type]


def _read_run(svc: Any, run_id: int) -> dict[str, Any]:
    out = svc.store.get_run(run_id).as_dict()
    out["events"] = [e.as_dict() for e in svc.store.list_events(run_id=run_id)]
    return out


async def _run_dict(svc: Any, run_id: int) -> dict[str, Any]:
    return await asyncio.to_thread(_read_run, svc, run_id)


@router.post("/runs", status_code=201, dependencies=[Depends(control_access)])
async def start_run(request: Annotated[RunRequest, Body()], svc=Depends(service)
                    ) -> dict[str, Any]:
    run = await svc.runs.start_run(request.kind, request.rig, request.params)
    return await _run_dict(svc, run.id)


@router.get("/runs", dependencies=[Depends(read_access)])
async def list_runs(svc=Depends(service), rig: str | None = None, state: RunState | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100
                    ) -> list[dict[str, Any]]:
    runs = await asyncio.to_thread(svc.store.list_runs, rig=rig, state=state, limit=limit,
                                   calibration=False)
    return [r.as_dict(calibration=False) for r in runs]


@router.get("/runs/{run_id}", dependencies=[Depends(read_access)])
async def get_run(run_id: RunId, svc=Depends(service)) -> Response:
    def answer() -> bytes:
        return json.dumps(_read_run(svc, run_id), allow_nan=False).encode()
    return Response(await asyncio.to_thread(answer), media_type="application/json")


@router.post("/runs/{run_id}/abort", dependencies=[Depends(control_access)])
async def abort_run(run_id: RunId, svc=Depends(service)) -> dict[str, Any]:
    await svc.runs.abort(run_id)
    return await _run_dict(svc, run_id)


@router.get("/runs/{run_id}/samples", dependencies=[Depends(read_access)])
async def samples(run_id: RunId, svc=Depends(service),
                  start_s: float | None = None, end_s: float | None = None,
                  max_points: Annotated[int | None, Query(ge=3, le=1_000_000)] = None
                  ) -> Response:
    if start_s is not None and end_s is not None and end_s < start_s:
        raise HTTPException(422, "end_s (%g) is before start_s (%g)" % (end_s, start_s))
    run = await asyncio.to_thread(svc.store.get_run, run_id)

    def answer() -> str:  # in a worker thread: the cache reads the database when it must
        cols, total = plot_rows(svc.store, svc.sample_cache, run_id, KINDS[run.kind].plot_column,
                                start_s, end_s, max_points)
        return json.dumps({"run": run_id, "columns": list(CSV_COLUMNS),
                           "rows": json_rows(cols, CSV_COLUMNS), "total": total},
                          allow_nan=False)

    return Response(await asyncio.to_thread(answer), media_type="application/json")


@router.get("/runs/{run_id}/samples.csv", dependencies=[Depends(read_access)])
async def samples_csv(run_id: RunId, svc=Depends(service)) -> StreamingResponse:
    chunks = await asyncio.to_thread(svc.store.iter_samples_csv, run_id)
    return StreamingResponse(chunks, media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="run-%d.csv"' % run_id})


@router.get("/runs/{run_id}/export.csv", dependencies=[Depends(read_access)])
async def export_csv(run_id: RunId, svc=Depends(service)) -> StreamingResponse:
    """The run's export: metadata in `#` lines, then its samples with derived columns
    (host.runs.exports); `lumenrig analyze` on it gives the run's summary."""
    chunks = await asyncio.to_thread(_export_chunks, svc, run_id)
    return StreamingResponse(chunks, media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="run-%d-export.csv"' % run_id})


def _export_chunks(svc: Any, run_id: int) -> Iterator[str]:
    run = _read_run(svc, run_id)
    try:
        firmware = svc.store.get_rig(run["rig"]).firmware
    except RigNotFound:
        firmware = None
    header = exports.header_lines(run, run.pop("events"), firmware)
    return exports.iter_export(header, svc.store.iter_export_csv(run_id))


@router.get("/runs/{run_id}/stream", dependencies=[Depends(read_access)])
async def stream(run_id: RunId, request: Request, svc=Depends(service)) -> StreamingResponse:
    run = await _run_dict(svc, run_id)  # 404 before the stream starts
    return LiveStream(run, svc.hub.subscribe(run_id), request)


@router.get("/runs/{run_id}/plot.png", dependencies=[Depends(read_access)])
async def plot(run_id: RunId, svc=Depends(service)) -> Response:
    from host.plotting.png import run_plot_png

    run = await asyncio.to_thread(svc.store.get_run, run_id)
    cols = await asyncio.to_thread(svc.store.read_samples, run_id)
    area = float((run.calibration or {}).get("pixel_area_mm2") or 1.0)
    png = await asyncio.to_thread(run_plot_png, run.as_dict(), cols, area)
    return Response(png, media_type="image/png")
