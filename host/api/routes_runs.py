"""Runs: start, list, inspect, abort, samples (JSON, CSV), live stream, plot."""

import asyncio
import json
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from host.api.deps import control_access, read_access, service
from host.params import RunRequest
from host.store.columns import CSV_COLUMNS, json_rows

router = APIRouter(prefix="/api")
SSE_KEEPALIVE_S = 15.0
SHAPE_COLUMN = {"lifetime": "luminance_cd_m2", "photostability": "pl", "jvl": "current_a"}


async def _run_dict(svc: Any, run_id: int) -> dict[str, Any]:
    run = await asyncio.to_thread(svc.store.get_run, run_id)
    out = run.as_dict()
    out["events"] = [e.as_dict() for e in
                     await asyncio.to_thread(svc.store.list_events, run_id=run_id)]
    return out


@router.post("/runs", status_code=201, dependencies=[Depends(control_access)])
async def start_run(request: Annotated[RunRequest, Body()], svc=Depends(service)
                    ) -> dict[str, Any]:
    run = await svc.runs.start_run(request.kind, request.rig, request.params)
    return await _run_dict(svc, run.id)


@router.get("/runs", dependencies=[Depends(read_access)])
async def list_runs(svc=Depends(service), rig: str | None = None, state: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100
                    ) -> list[dict[str, Any]]:
    runs = await asyncio.to_thread(svc.store.list_runs, rig=rig, state=state, limit=limit)
    return [r.as_dict() for r in runs]


@router.get("/runs/{run_id}", dependencies=[Depends(read_access)])
async def get_run(run_id: int, svc=Depends(service)) -> dict[str, Any]:
    return await _run_dict(svc, run_id)


@router.post("/runs/{run_id}/abort", dependencies=[Depends(control_access)])
async def abort_run(run_id: int, svc=Depends(service)) -> dict[str, Any]:
    await svc.runs.abort(run_id)
    return await _run_dict(svc, run_id)


@router.get("/runs/{run_id}/samples", dependencies=[Depends(read_access)])
async def samples(run_id: int, svc=Depends(service),
                  start_s: float | None = None, end_s: float | None = None,
                  max_points: Annotated[int | None, Query(ge=3, le=1_000_000)] = None
                  ) -> Response:
    if start_s is not None and end_s is not None and end_s < start_s:
        raise HTTPException(422, "end_s (%g) is before start_s (%g)" % (end_s, start_s))
    run = await asyncio.to_thread(svc.store.get_run, run_id)
    cols = await asyncio.to_thread(svc.store.read_samples, run_id, start_s, end_s)
    index = None
    if max_points is not None and len(cols["seq"]) > max_points:
        from host.downsample import lttb_indices

        y = cols[SHAPE_COLUMN[run.kind]]
        if not np.isfinite(y).any():
            y = cols["voltage_v"]
        index = await asyncio.to_thread(lttb_indices, cols["t_s"], y, max_points)
    rows = await asyncio.to_thread(json_rows, cols, CSV_COLUMNS, index)
    body = json.dumps({"run": run_id, "columns": list(CSV_COLUMNS), "rows": rows,
                       "total": int(len(cols["seq"]))}, allow_nan=False)
    return Response(body, media_type="application/json")


@router.get("/runs/{run_id}/samples.csv", dependencies=[Depends(read_access)])
async def samples_csv(run_id: int, svc=Depends(service)) -> StreamingResponse:
    chunks = await asyncio.to_thread(svc.store.iter_samples_csv, run_id)
    return StreamingResponse(chunks, media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="run-%d.csv"' % run_id})


def _sse(kind: str, data: Any) -> bytes:
    return ("event: %s\ndata: %s\n\n" % (kind, json.dumps(data, allow_nan=False))).encode()


@router.get("/runs/{run_id}/stream", dependencies=[Depends(read_access)])
async def stream(run_id: int, request: Request, svc=Depends(service)) -> StreamingResponse:
    run = await _run_dict(svc, run_id)  # 404 before the stream starts
    subscription = svc.hub.subscribe(run_id)

    async def events():
        try:
            yield _sse("run", run)
            if run["state"] in ("completed", "aborted", "failed"):
                yield _sse("end", run)
                return
            while True:
                try:
                    kind, data = await asyncio.wait_for(subscription.queue.get(),
                                                        SSE_KEEPALIVE_S)
                except asyncio.TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
                    continue
                yield _sse(kind, data)
                if kind == "end":
                    return
        finally:
            subscription.close()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/runs/{run_id}/plot.png", dependencies=[Depends(read_access)])
async def plot(run_id: int, svc=Depends(service)) -> Response:
    from host.plots import run_plot_png

    run = await asyncio.to_thread(svc.store.get_run, run_id)
    cols = await asyncio.to_thread(svc.store.read_samples, run_id)
    area = float((run.calibration or {}).get("pixel_area_mm2") or 1.0)
    png = await asyncio.to_thread(run_plot_png, run.as_dict(), cols, area)
    return Response(png, media_type="image/png")
