"""The board self-test of a rig, on request (the quick checks run at every handshake)."""

from typing import Any

from fastapi import APIRouter, Depends

from host.api.deps import RigName, control_access, service
from host.api.responses import NOT_FOUND, REFUSED
from host.api.routes_rigs import own_rig
from host.selftest import runner

router = APIRouter(prefix="/api")


@router.post("/rigs/{rig}/selftest", dependencies=[Depends(control_access)],
             responses=NOT_FOUND | REFUSED)
async def run_selftest(rig: RigName, svc=Depends(service)) -> dict[str, Any]:
    """Run the full self-test on an idle rig (the shutter moves; the output, laser and
    shutter end safe): `{"rig", "passed", "checks": [{"name", "state", "passed", "value",
    "unit", "limit", "advice", ...}]}`, kept on the rig (GET /api/rigs/{rig} `selftest`).
    409 while a run is going or the rig is not connected; 503 when it does not answer."""
    return await runner.run_full(own_rig(svc, rig))
