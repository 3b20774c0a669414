"""Runs: start, list, inspect, abort, samples (JSON, CSV), live stream, plot."""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import TypeAdapter, ValidationError

from host import lab
from host.api.deps import control_access, read_access, service
from host.api.livestream import LiveStream
from host.api.responses import (
    CSV,
    ELSEWHERE,
    EVENT_STREAM,
    NOT_FOUND,
    PNG,
    REFUSED,
    RunPage,
    RunWithEvents,
    Samples,
    StoredCalibration,
    returns,
)
from host.lab.relay import relayed
from host.plotting import png
from host.plotting.cache import plot_rows
from host.runs import eventtext, exports
from host.runs.figurewords import FIGURES, SUFFIX_UNITS
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
RUN_REQUEST: TypeAdapter[Any] = TypeAdapter(RunRequest)


def _read_run(svc: Any, run_id: int) -> dict[str, Any]:
    """The run with its events, each with `text`: what it says in words with units."""
    out = svc.store.get_run(run_id).as_dict()
    events = [e.as_dict() for e in svc.store.list_events(run_id=run_id)]
    for event, text in zip(events, eventtext.texts(events, out), strict=True):
        event["text"] = text
    out["events"] = events
    return out


async def _run_dict(svc: Any, run_id: int) -> dict[str, Any]:
    return await asyncio.to_thread(_read_run, svc, run_id)


@router.post("/runs", status_code=201, dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED | ELSEWHERE, **returns(RunWithEvents))
async def start_run(request: Annotated[RunRequest, Body()], svc=Depends(service)) -> Any:
    """Start a run of one kind on a rig; the body's schema is the kind's (see `kind`). A rig
    another site of the lab serves is started by that site, with its answer."""
    site = (None if request.rig in svc.rigs else await asyncio.to_thread(
        lab.serving_site, svc.store, request.rig, svc.settings.site))
    if site is not None:
        return _answer(await svc.commands.ask(site, "start_run", request.model_dump(
            mode="json")))
    return await _start_here(svc, request)


async def _start_here(svc: Any, request: Any) -> dict[str, Any]:
    labels = RunLabels.model_validate({name: getattr(request, name)
                                       for name in RunLabels.model_fields})
    run = await svc.runs.start_run(request.kind, request.rig, request.params, labels,
                                   channel=request.channel)
    return await _run_dict(svc, run.id)


def _answer(status_and_body: tuple[int, Any]) -> JSONResponse:
    status, body = status_and_body
    return JSONResponse(body, status_code=status)


def lab_handlers(svc: Any) -> dict[str, Any]:
    """What this site does when another site of the lab asks it to start or abort a run on
    one of its rigs (host.lab.commands): what the routes do, as (status, body)."""

    async def start(body: dict[str, Any]) -> tuple[int, Any]:
        try:
            request = RUN_REQUEST.validate_python(body)
        except ValidationError as exc:
            return 422, {"detail": jsonable_encoder(exc.errors(include_url=False))}
        return 201, await _start_here(svc, request)

    async def abort(body: dict[str, Any]) -> tuple[int, Any]:
        await svc.runs.abort(int(body["run_id"]))
        return 200, await _run_dict(svc, int(body["run_id"]))

    return {"start_run": start, "abort_run": abort}


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


@router.get("/runs", dependencies=[Depends(read_access)], **returns(RunPage))
async def list_runs(
        request: Request, svc=Depends(service),
        q: Annotated[str | None, Query(max_length=200,
                                       description="text in the run's labels")] = None,
        kind: Annotated[RunKindName | None, Query(description="runs of this kind")] = None,
        state: Annotated[RunState | None, Query(description="runs in this state")] = None,
        rig: Annotated[str | None, Query(max_length=64, description="runs on this rig")] = None,
        tag: Annotated[list[str] | None, Query(max_length=16,
                                               description="runs with every one of these")] = None,
        since: Annotated[datetime | None, Query(description="created at or after")] = None,
        until: Annotated[datetime | None, Query(description="created before")] = None,
        archived: Annotated[Literal["false", "true", "any"],
                            Query(description="archived runs: hidden (false), only (true) "
                                              "or both (any)")] = "false",
        limit: Annotated[int, Query(ge=1, le=1000, description="runs per page")] = 100,
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


@router.patch("/runs/{run_id}", dependencies=[Depends(control_access)], responses=NOT_FOUND,
              **returns(RunWithEvents))
async def edit_run(run_id: RunId, edit: Annotated[RunEdit, Body()], svc=Depends(service)
                   ) -> dict[str, Any]:
    """Change notes, tags or the device's names (nothing measured); each change is an
    `edited` event with who, old and new."""
    edited = await asyncio.to_thread(svc.store.edit_run, run_id, edit.changes(), edit.by)
    svc.runs.book.edited(edited)
    return await _run_dict(svc, run_id)


By = Annotated[str, Query(min_length=1, max_length=64, description="who (recorded)")]


@router.post("/runs/{run_id}/archive", dependencies=[Depends(control_access)],
             responses=NOT_FOUND, **returns(RunWithEvents))
async def archive_run(run_id: RunId, svc=Depends(service), by: By = "api") -> dict[str, Any]:
    """Hide the run from lists (GET /api/runs?archived=true shows it); nothing is deleted."""
    return await _set_archived(svc, run_id, True, by)


@router.post("/runs/{run_id}/unarchive", dependencies=[Depends(control_access)],
             responses=NOT_FOUND, **returns(RunWithEvents))
async def unarchive_run(run_id: RunId, svc=Depends(service), by: By = "api") -> dict[str, Any]:
    """Show an archived run in lists again."""
    return await _set_archived(svc, run_id, False, by)


async def _set_archived(svc: Any, run_id: int, archived: bool, by: str) -> dict[str, Any]:
    await asyncio.to_thread(svc.store.set_archived, run_id, archived, by)
    return await _run_dict(svc, run_id)


@router.get("/figures", dependencies=[Depends(read_access)])
async def figure_words() -> dict[str, Any]:
    """What run summaries' figures are called in words, and their units: {"figures": {name:
    {"words", "unit"}}, "suffix_units": [[suffix, unit], ...]} (a name not listed has the
    unit of the first suffix it ends with)."""
    return {"figures": {name: {"words": said, "unit": unit}
                        for name, (said, unit) in FIGURES.items()},
            "suffix_units": [list(pair) for pair in SUFFIX_UNITS]}


@router.get("/calibrations/{calibration_id}", dependencies=[Depends(read_access)],
            responses=NOT_FOUND, **returns(StoredCalibration))
async def get_calibration(calibration_id: Annotated[int, Path(
                              ge=1, le=2**31 - 1, description="calibration version id")],
                          svc=Depends(service)) -> dict[str, Any]:
    """One stored calibration version (a run's calibration_id names the one it used)."""
    return (await asyncio.to_thread(svc.store.get_calibration_version,
                                    calibration_id)).as_dict()


# Written by json.dumps in a worker thread (a calibration can hold thousands of points), so
# response_model only documents it.
@router.get("/runs/{run_id}", dependencies=[Depends(read_access)], responses=NOT_FOUND,
            response_model=RunWithEvents)
async def get_run(run_id: RunId, svc=Depends(service)) -> Response:
    """The run: state, progress, parameters, labels, summary, calibration and events."""
    def answer() -> bytes:
        return json.dumps(_read_run(svc, run_id), allow_nan=False).encode()
    return Response(await asyncio.to_thread(answer), media_type="application/json")


@router.post("/runs/{run_id}/abort", dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED | ELSEWHERE, **returns(RunWithEvents))
async def abort_run(run_id: RunId, svc=Depends(service)) -> Any:
    """Stop the run; the device makes its outputs safe. A run on a rig another site of the
    lab serves is aborted by that site, with its answer."""
    run = await asyncio.to_thread(svc.store.get_run, run_id)
    site = (None if run.finished or run.rig in svc.rigs else await asyncio.to_thread(
        lab.serving_site, svc.store, run.rig, svc.settings.site))
    if site is not None:
        return _answer(await svc.commands.ask(site, "abort_run", {"run_id": run_id}))
    await svc.runs.abort(run_id)
    return await _run_dict(svc, run_id)


@router.get("/runs/{run_id}/samples", dependencies=[Depends(read_access)], responses=NOT_FOUND,
            response_model=Samples)  # written by json.dumps: documented, not re-checked
async def samples(run_id: RunId, svc=Depends(service),
                  start_s: Annotated[float | None, Query(
                      description="from this run time on, s")] = None,
                  end_s: Annotated[float | None, Query(
                      description="up to this run time, s; not before start_s")] = None,
                  max_points: Annotated[int | None, Query(
                      ge=3, le=1_000_000, description="downsample to this many rows, keeping "
                                                      "the plot's shape (LTTB)")] = None
                  ) -> Response:
    """The run's samples as rows, all of them or a time range, optionally downsampled."""
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


@router.get("/runs/{run_id}/samples.csv", dependencies=[Depends(read_access)],
            response_class=StreamingResponse, responses=CSV | NOT_FOUND)
async def samples_csv(run_id: RunId, svc=Depends(service)) -> StreamingResponse:
    """Every sample as CSV, the columns of GET /api/runs/{run_id}/samples."""
    chunks = await asyncio.to_thread(svc.store.iter_samples_csv, run_id)
    return StreamingResponse(chunks, media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="run-%d.csv"' % run_id})


@router.get("/runs/{run_id}/export.csv", dependencies=[Depends(read_access)],
            response_class=StreamingResponse, responses=CSV | NOT_FOUND)
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


@router.get("/runs/{run_id}/stream", dependencies=[Depends(read_access)],
            response_class=StreamingResponse, responses=EVENT_STREAM | NOT_FOUND)
async def stream(run_id: RunId, request: Request, svc=Depends(service)) -> StreamingResponse:
    """The run live (server-sent events, host.api.livestream): `run`, then `samples`,
    `progress`, `event`, `state`, and `end` when it ends; `resync` when the client fell
    behind."""
    run = await _run_dict(svc, run_id)  # 404 before the stream starts
    subscription = svc.hub.subscribe(run_id)
    if relayed(svc, run_id, run):  # another site follows it: read back what it stores
        svc.remote_runs.follow(run_id)
    return LiveStream(run, subscription, request)


@router.get("/runs/{run_id}/plot.png", dependencies=[Depends(read_access)],
            response_class=Response, responses=PNG | NOT_FOUND)
async def plot(run_id: RunId, svc=Depends(service),
               dpi: Annotated[int, Query(ge=png.DPI_RANGE[0], le=png.DPI_RANGE[1],
                                         description="dots per inch: the figure is %g inches "
                                         "wide, %d px at the default"
                                         % (png.WIDTH_IN, png.WIDTH_IN * png.DEFAULT_DPI))
                    ] = png.DEFAULT_DPI) -> Response:
    """The run's figure for a report: the run page's panels in one PNG."""
    run = await _run_dict(svc, run_id)
    cols = await asyncio.to_thread(svc.store.read_samples, run_id)
    image = await asyncio.to_thread(png.run_plot_png, run, cols, dpi)
    return Response(image, media_type="image/png")
