"""Rigs: state, link health, calibration."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from host import lab
from host.api.deps import RigName, control_access, read_access, service
from host.api.responses import (
    NOT_FOUND,
    REFUSED,
    Health,
    OrphanStopped,
    PixelReplaced,
    Rig,
    RigWithCalibration,
    Run,
    Site,
    StoredCalibration,
    returns,
)
from host.runs.errors import RunError
from photometry.photodiode import PhotodiodeCalibration
from protocol import schema

router = APIRouter(prefix="/api")


def own_rig(svc: Any, name: str):
    """This service's rig of that name (409 naming the site for another site's rig)."""
    try:
        return svc.runs.book.rig_named(name)
    except RunError as exc:
        raise HTTPException(exc.status, exc.message) from None


def _local(svc: Any, rig: Any) -> dict[str, Any]:
    return {**rig.describe(), "site": svc.settings.site, "online": True, "remote": False}


@router.get("/health", dependencies=[Depends(read_access)], **returns(Health))
async def health(svc=Depends(service)) -> dict[str, Any]:
    """The database, each rig's link and ingest, the live streams and the MQTT telemetry;
    always answers."""
    database = "ok"
    try:
        await asyncio.to_thread(svc.store.list_rigs)
    except Exception as exc:  # reported, not raised: health must answer
        database = "error: %s" % exc
    ingest_errors = {name: rig.ingest_error for name, rig in svc.rigs.items()
                     if rig.ingest_error}
    healthy = database == "ok" and not ingest_errors
    return {"status": "ok" if healthy else "degraded", "database": database,
            "dialect": svc.store.dialect,
            "rigs": {name: rig.link.connected if rig.link else False
                     for name, rig in svc.rigs.items()},
            "ingest_errors": ingest_errors, "streams": svc.hub.stats(),
            "mqtt": svc.telemetry.stats() if svc.telemetry is not None else None}


@router.get("/rigs", dependencies=[Depends(read_access)], **returns(list[Rig]))
async def list_rigs(svc=Depends(service)) -> list[dict[str, Any]]:
    """Every rig of the lab, as GET /api/rigs/{rig} without the calibration: this service's
    own first, then those other sites serve (`remote`, with their site and whether it is
    online)."""
    remote = await asyncio.to_thread(lab.remote_rigs, svc.store, svc.settings, svc.rigs)
    return [_local(svc, rig) for rig in svc.rigs.values()] + remote


@router.get("/sites", dependencies=[Depends(read_access)], **returns(list[Site]))
async def list_sites(svc=Depends(service)) -> list[dict[str, Any]]:
    """The services of the lab sharing this database, each with its last heartbeat."""
    return [site.as_dict() for site in await asyncio.to_thread(svc.store.list_sites)]


@router.get("/rigs/{rig}", dependencies=[Depends(read_access)], responses=NOT_FOUND,
            **returns(RigWithCalibration))
async def get_rig(rig: RigName, svc=Depends(service)) -> dict[str, Any]:
    """The rig's link and board state, the run it is busy with, its calibration; for a rig
    of another site, what that site last wrote."""
    found = svc.rigs.get(rig)
    if found is not None:
        out = _local(svc, found)
    else:
        remote = await asyncio.to_thread(lab.remote_rigs, svc.store, svc.settings, svc.rigs)
        out = next((r for r in remote if r["name"] == rig), None)
        if out is None:
            raise HTTPException(404, "no rig named %r; rigs: %s" % (
                rig, ", ".join([*svc.rigs, *(r["name"] for r in remote)])))
    calibration = await asyncio.to_thread(svc.store.get_calibration, rig)
    out["calibration"] = calibration
    out["calibration_error"] = None
    if calibration is not None:
        try:  # one stored before the bounds were tightened, or damaged: say so, keep serving
            PhotodiodeCalibration.model_validate(calibration)
        except ValueError as exc:
            out["calibration_error"] = str(exc)
    return out


@router.put("/rigs/{rig}/calibration", dependencies=[Depends(control_access)],
            responses=NOT_FOUND, **returns(StoredCalibration))
async def put_calibration(rig: RigName, calibration: PhotodiodeCalibration,
                          svc=Depends(service)) -> dict[str, Any]:
    """Store the rig's photodiode calibration as a new version; runs started from now on use
    it (a run keeps the one it started with)."""
    found = own_rig(svc, rig)
    stored = await asyncio.to_thread(svc.store.set_calibration, found.name,
                                     calibration.model_dump(mode="json"))
    return stored.as_dict()


@router.post("/rigs/{rig}/sim/replace", dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED, **returns(PixelReplaced))
async def replace_pixel(rig: RigName, channel: Annotated[int, Query(
        ge=0, le=schema.MAX_CHANNELS - 1, description="the channel to mount it on")] = 0,
        svc=Depends(service)) -> dict[str, Any]:
    """Mount a fresh (unaged) pixel of the simulated rig's preset on a channel: the
    simulated board goes down and boots again with it, as when a person swaps the device
    under test. Simulated rigs only; not while a run is going on the rig."""
    found = own_rig(svc, rig)
    if found.sim is None:
        raise HTTPException(409, "rig %s is a real board: swap its pixel by hand" % rig)
    if found.active_run_id is not None:
        raise HTTPException(409, "rig %s is busy with run %d: abort it (POST /api/runs/%d/"
                            "abort) or wait for it to end" % (rig, found.active_run_id,
                                                            found.active_run_id))
    try:
        replaced = found.sim.replace_pixel(channel)
    except ValueError as exc:
        raise HTTPException(422, "rig %s: %s" % (rig, exc)) from None
    return {"rig": rig, "channel": channel, "pixels_replaced": replaced}


# Which channel's orphan an orphan request means (GET /api/rigs `orphan_runs`).
OrphanChannel = Annotated[int | None, Query(
    ge=0, le=schema.MAX_CHANNELS - 1, description="the channel whose orphan run is meant; "
    "may be left out when the rig holds exactly one")]


@router.post("/rigs/{rig}/orphan/stop", dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED, **returns(OrphanStopped))
async def stop_orphan(rig: RigName, channel: OrphanChannel = None,
                      svc=Depends(service)) -> dict[str, Any]:
    """Stop a run the board holds on a channel that this service did not start (that
    channel's outputs made safe)."""
    return await svc.runs.stop_orphan(rig, channel)


@router.post("/rigs/{rig}/orphan/import", status_code=201,
             dependencies=[Depends(control_access)], responses=NOT_FOUND | REFUSED,
             **returns(Run))
async def import_orphan(rig: RigName, channel: OrphanChannel = None,
                        svc=Depends(service)) -> dict[str, Any]:
    """File the orphan run of a channel as a new run on that channel, flagged imported, with
    every sample the board still holds; a running one is followed from then on."""
    run = await svc.runs.import_orphan(rig, channel)
    out = await asyncio.to_thread(svc.store.get_run, run.id)
    return out.as_dict()
