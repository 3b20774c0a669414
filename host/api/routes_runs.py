"""Runs: start, list, inspect, abort, samples (JSON, CSV), live stream, plot."""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from host.api.deps import control_access, read_access, service
from host.api.livestream import LiveStream
from host.plotting.cache import plot_rows
from host.runs import exports
from host.runs.kinds import KIND_NAMES, KINDS, RunRequest
from host.runs.labels import RunEdit, RunLabels
from host.store import RigNotFound
from host.store.columns import CSV_COLUMNS, json_rows
from host.store.records import RUN_STATES, Run

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
    labels = RunLabels.model_validate({name: getattr(request, name)
                                       for name in RunLabels.model_fields})
    run = await svc.runs.start_run(request.kind, request.rig, request.params, labels)
    return await _run_dict(svc, run.id)


# The filters GET /api/runs takes; any other query parameter is a 422, not ignored.
LIST_FILTERS = ("q", "kind", "state", "rig", "tag", "since", "until", "archived", "limit",
                "cursor")
RunKindName = Literal[KIND_NAMES]  # type: ignore[valid-type]


def list_item(run: Run) -> dict[str, Any]:
    """A run as lists show it: no calibration and no full summary (GET /api/runs/{id} has
    both), its kind's headline figures instead."""
    out = run.as_dict(calibration=False)
    summary = out.pop("summary")
    out["figures"] = KINDS[run.kind].headline(summary)
    out["notes_in_summary"] = len((summary or {}).get("notes") or ())
    return out


@router.get("/runs", dependencies=[Depends(read_access)])
async def list_runs(
        request: Request, svc=Depends(service),
        q: Annotated[str | None, Query(max_length=200,
                                       description="text in the run's labels")] = None,
        kind: RunKindName | None = None, state: RunState | None = None,
        rig: Annotated[str | None, Query(max_length=64)] = None,
        tag: Annotated[list[str] | None, Query(max_length=16,
                                               description="runs with every one of these")] = None,
        since: Annotated[datetime | None, Query(description="created at or after")] = None,
        until: Annotated[datetime | None, Query(description="created before")] = None,
        archived: Annotated[Literal["false", "true", "any"],
                            Query(description="archived runs: hidden (false), only (true) "
                                              "or both (any)")] = "false",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,9}$",
                                            description="next_cursor of the page before")
                          ] = None) -> dict[str, Any]:
    """Runs, newest first, a page at a time: {"runs": [...], "next_cursor": ...}; give
    next_cursor back as cursor for the next page (null: this was the last)."""
    unknown = sorted(set(request.query_params) - set(LIST_FILTERS))
    if unknown:
        raise HTTPException(422, "unknown filter %s; the filters are %s"
                            % (", ".join(unknown), ", ".join(LIST_FILTERS)))
    runs = await asyncio.to_thread(
        svc.store.list_runs, rig=rig, state=state, kind=kind, limit=limit + 1,
        calibration=False, q=q, tags=tag or (), since=_utc(since), until=_utc(until),
        archived={"false": False, "true": True, "any": None}[archived],
        before_id=int(cursor) if cursor else None)
    page = runs[:limit]
    more = len(runs) > limit
    return {"runs": [list_item(r) for r in page],
            "next_cursor": str(page[-1].id) if more else None}


def _utc(when: datetime | None) -> datetime | None:
    """A query's time; one without a zone is taken as UTC."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


@router.patch("/runs/{run_id}", dependencies=[Depends(control_access)])
async def edit_run(run_id: RunId, edit: Annotated[RunEdit, Body()], svc=Depends(service)
                   ) -> dict[str, Any]:
    """Change notes, tags or the device's names (nothing measured); each change is an
    `edited` event with who, old and new."""
    await asyncio.to_thread(svc.store.edit_run, run_id, edit.changes(), edit.by)
    return await _run_dict(svc, run_id)


By = Annotated[str, Query(min_length=1, max_length=64, description="who (recorded)")]


@router.post("/runs/{run_id}/archive", dependencies=[Depends(control_access)])
async def archive_run(run_id: RunId, svc=Depends(service), by: By = "api") -> dict[str, Any]:
    """Hide the run from lists (GET /api/runs?archived=true shows it); nothing is deleted."""
    return await _set_archived(svc, run_id, True, by)


@router.post("/runs/{run_id}/unarchive", dependencies=[Depends(control_access)])
async def unarchive_run(run_id: RunId, svc=Depends(service), by: By = "api") -> dict[str, Any]:
    """Show an archived run in lists again."""
    return await _set_archived(svc, run_id, False, by)


async def _set_archived(svc: Any, run_id: int, archived: bool, by: str) -> dict[str, Any]:
    await asyncio.to_thread(svc.store.set_archived, run_id, archived, by)
    return await _run_dict(svc, run_id)


@router.get("/calibrations/{calibration_id}", dependencies=[Depends(read_access)])
async def get_calibration(calibration_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                          svc=Depends(service)) -> dict[str, Any]:
    """One stored calibration version (a run's calibration_id names the one it used)."""
    return (await asyncio.to_thread(svc.store.get_calibration_version,
                                    calibration_id)).as_dict()


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
