"""A test sequence's report: its headline, check-ups, steps, ISOS-style metadata and the
stress's clocks as JSON, and its figure as PNG or PDF."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from host.api.deps import read_access, service
from host.api.responses import NOT_FOUND, PNG, Timestamp, returns
from host.api.routes_sequences import SequenceId
from host.plotting import png
from host.plotting.sequence_png import FORMATS, sequence_png
from host.sequences.report import sequence_report

router = APIRouter(prefix="/api")
PDF: dict[int | str, dict[str, Any]] = {200: {
    "description": "a PDF document", "content": {"application/pdf": {
        "schema": {"type": "string", "contentMediaType": "application/pdf"}}}}}
Dpi = Annotated[int, Query(ge=png.DPI_RANGE[0], le=png.DPI_RANGE[1],
                           description="dots per inch: the figure is %g inches wide, %d px at "
                                       "the default" % (png.WIDTH_IN,
                                                        png.WIDTH_IN * png.DEFAULT_DPI))]
Number = float | None


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class StressDrive(_Answer):
    """What the stress held the device at."""

    kind: str = Field(description="the stress run's kind: lifetime or photostability")
    drive: str | None = Field(description="the parameter that sets it: voltage_v, "
                                          "target_l0_cd_m2, current_a, current_density_ma_cm2 "
                                          "or laser_power_mw_cm2")
    level: Number = Field(description="that parameter's value, in `unit`")
    unit: str | None = Field(description="the level's unit: V, cd/m2, A, mA/cm2 or mW/cm2")
    text: str | None = Field(description="the same in words, e.g. 'constant voltage, 10 V'")


class FigureChange(_Answer):
    """A J-V-L figure before and after the stress, each in the figure's own unit."""

    before: Number = Field(description="of the J-V-L step nearest before the stress")
    after: Number = Field(description="of the J-V-L step nearest after it")
    change: Number = Field(description="after less before")
    change_pct: Number = Field(description="the change relative to before, %")


class Headline(_Answer):
    """The figures a reader asks first; null where the sequence has no such run (yet)."""

    stress_run_id: int | None = Field(description="the stress: the first lifetime step's run, "
                                                  "else the first photostability step's")
    stress: StressDrive | None = Field(description="what the stress held the device at")
    l0_cd_m2: Number = Field(description="L0, the luminance the stress starts from, cd/m2")
    t95_s: Number = Field(description="stress time to 95 % of L0, s")
    t80_s: Number = Field(description="stress time to 80 % of L0, s")
    t50_s: Number = Field(description="stress time to 50 % of L0, s")
    stop_reason: str | None = Field(description="why the stress stopped, e.g. "
                                                "luminance_fraction")
    stress_figures: dict[str, Any] | None = Field(
        description="the stress kind's headline figures (GET /api/figures says them in words)")
    before_run_id: int | None = Field(description="the J-V-L step nearest before the stress "
                                                  "(without a stress: the first J-V-L step)")
    after_run_id: int | None = Field(description="the J-V-L step nearest after the stress "
                                                 "(without a stress: the last J-V-L step)")
    changes: dict[str, FigureChange] = Field(
        description="{eqe_max_pct, ce_max_cd_a, turn_on_v}: before, after and the change")


class Checkup(_Answer):
    """One check-up sweep of the stress."""

    run_id: int = Field(description="the check-up's J-V-L run")
    state: str = Field(description="the run's state")
    stress_t_s: Number = Field(description="the stress time it was taken at (where the stress "
                                           "paused for it, or ended), s")
    wall_t: Timestamp | None = Field(description="when it started (ISO 8601, UTC)")
    l_over_l0: Number = Field(description="the stress's L/L0 then (median of the newest "
                                          "samples); null for a photostability stress")
    figures: dict[str, Any] | None = Field(
        description="its J-V-L headline figures: eqe_max_pct, ce_max_cd_a, pe_max_lm_w, "
                    "l_max_cd_m2, turn_on_v")


class ReportStep(_Answer):
    """One step of the sequence with its run's headline figures."""

    index: int = Field(description="the step, from 0")
    kind: str = Field(description="jvl, lifetime, photostability or wait")
    state: str = Field(description="its run's state; a wait's: pending, waiting or completed")
    run_id: int | None = Field(description="its run (the last one made for it)")
    checkups: list[int] = Field(description="its check-up runs")
    duration_s: Number = Field(None, description="a wait's length, s")
    figures: dict[str, Any] | None = Field(description="its run's headline figures, made from "
                                                       "the samples so far while it runs")


class ReportMetadata(_Answer):
    """An ISOS-style block of conditions: what the request stated (null where not given) and
    what the service knows of the runs."""

    protocol: str | None = Field(description="as given, e.g. ISOS-L-1")
    atmosphere: str | None = Field(description="as given, e.g. N2 glovebox")
    encapsulation: str | None = Field(description="as given")
    illumination_source: str | None = Field(description="as given")
    load: str | None = Field(description="as given: the electrical state between measurements")
    remarks: str | None = Field(description="as given")
    device: dict[str, Any] | None = Field(description="the device under test as given")
    operator: str | None = Field(description="who ran it")
    rig: str = Field(description="the rig's name")
    rig_spec: str = Field(description="where the rig is: a serial port, a URL or sim:PRESET")
    firmware_version: str | None = Field(description="the rig's firmware, major.minor.patch")
    board_ids: list[str] = Field(description="the boards the runs ran on, 16 hex digits each")
    calibration_ids: list[int] = Field(description="the calibration versions the runs were "
                                                   "measured with (GET /api/calibrations/{id})")
    stress: str | None = Field(description="the stress type and level in words")
    sample_period_s: Number = Field(description="the stress's time between samples, s")
    laser_power_mw_cm2: Number = Field(description="a photostability stress's laser power "
                                                   "density, recorded, mW/cm2")
    laser_wavelength_nm: Number = Field(description="its laser's wavelength, recorded, nm")
    temperature_min_c: Number = Field(description="lowest ambient temperature over the "
                                                  "stress's samples, °C")
    temperature_max_c: Number = Field(description="highest ambient temperature, °C")
    humidity_min_pct: Number = Field(description="lowest relative humidity over the stress's "
                                                 "samples, %")
    humidity_max_pct: Number = Field(description="highest relative humidity, %")
    stop_rule: str | None = Field(description="when the stress stops, in words")
    l0_rule: str | None = Field(description="which sample L0 (or PL0) is, in words")
    dark_rule: str | None = Field(description="its dark pauses, in words; null without")
    checkup_rule: str | None = Field(description="the check-up sweep and when it runs, in "
                                                 "words; null without check-ups")


class ClockSegment(_Answer):
    """A stretch of the stress between pauses, on both clocks."""

    stress_from_s: Number = Field(description="stress time at its start, s")
    stress_to_s: Number = Field(description="stress time at its end (its last sample), s")
    wall_from: Timestamp = Field(description="when it started (ISO 8601, UTC)")
    wall_to: Timestamp | None = Field(description="when it ended; null while it runs, or "
                                                  "when a device reset ended it")


class SequenceReport(_Answer):
    """A sequence's report; stress times are the lifetime summary's (from the hold's start,
    dark pauses out)."""

    sequence_id: int = Field(description="sequence id")
    name: str | None = Field(description="the sequence's name")
    rig: str = Field(description="the rig it runs on")
    state: str = Field(description="queued, running, completed, aborted or failed")
    error: str | None = Field(description="why it failed or was aborted")
    created_at: Timestamp = Field(description="when it was made (ISO 8601, UTC)")
    started_at: Timestamp | None = Field(description="when its first step began")
    finished_at: Timestamp | None = Field(description="when it ended")
    partial: bool = Field(description="the sequence or one of its runs has not ended: the "
                                      "figures are those so far")
    headline: Headline = Field(description="L0, the stress, T-values, J-V-L before and after")
    checkups: list[Checkup] = Field(description="the stress's check-ups in order")
    steps: list[ReportStep] = Field(description="every step in order")
    metadata: ReportMetadata = Field(description="the conditions, ISOS-style")
    clocks: list[ClockSegment] = Field(description="the stress's segments between pauses: "
                                                   "stress time against wall time")


def _figure(svc: Any, sequence_id: int, dpi: int, fmt: str) -> Response:
    """The report made and drawn in one worker thread (it reads samples; matplotlib draws)."""
    report = sequence_report(svc.store, sequence_id)
    return Response(sequence_png(report, svc.store, dpi, fmt), media_type=FORMATS[fmt])


@router.get("/sequences/{sequence_id}/report", dependencies=[Depends(read_access)],
            responses=NOT_FOUND, **returns(SequenceReport))
async def get_sequence_report(sequence_id: SequenceId, svc=Depends(service)) -> dict[str, Any]:
    """The sequence's report: headline (L0, stress, T-values, J-V-L before and after),
    check-ups on stress time, steps, ISOS-style metadata and the stress's clocks. While the
    sequence runs, what it has so far (`partial`)."""
    return await asyncio.to_thread(sequence_report, svc.store, sequence_id)


@router.get("/sequences/{sequence_id}/report.png", dependencies=[Depends(read_access)],
            response_class=Response, responses=PNG | NOT_FOUND)
async def get_sequence_report_png(sequence_id: SequenceId, svc=Depends(service),
                                  dpi: Dpi = png.DEFAULT_DPI) -> Response:
    """The report's figure: the stress curve with its check-ups, their efficiencies and
    turn-on voltage on stress time, J-V-L before and after, the headline table."""
    return await asyncio.to_thread(_figure, svc, sequence_id, dpi, "png")


@router.get("/sequences/{sequence_id}/report.pdf", dependencies=[Depends(read_access)],
            response_class=Response, responses=PDF | NOT_FOUND)
async def get_sequence_report_pdf(sequence_id: SequenceId, svc=Depends(service),
                                  dpi: Dpi = png.DEFAULT_DPI) -> Response:
    """The report's figure as a PDF (as report.png draws it)."""
    return await asyncio.to_thread(_figure, svc, sequence_id, dpi, "pdf")
