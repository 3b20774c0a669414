"""What the API answers, as models: the schema documents it and each answer is checked
against it, while the JSON stays as the service built it (see `returns`).

Per-kind and device-made objects (a run's params and summary, link counters, the last
sample) are documented objects: their keys depend on the run kind or the firmware.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from host.runs.kindnames import KIND_NAMES
from host.store.records import RUN_STATES

# ISO 8601 text in UTC, as the store writes it (kept as text, so it reads back unchanged).
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
KindName = Literal[KIND_NAMES]  # type: ignore[valid-type]
RunState = Literal[RUN_STATES]  # type: ignore[valid-type]


def returns(model: Any) -> dict[str, Any]:
    """A route's arguments for answering `model`: documented and checked, and written with
    exactly the keys the endpoint built (none added for an unset optional field; one the
    model does not name passes through)."""
    return {"response_model": model, "response_model_exclude_unset": True}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Answer):
    """An error the client can act on."""

    detail: str = Field(description="what went wrong and what to do, in words")


class Problem(_Answer):
    """One field a request got wrong."""

    where: str = Field(description="the field, dotted (params.voltage_v); 'body' for the "
                                   "whole body")
    message: str = Field(description="what is wrong with it")


class ValidationFailure(_Answer):
    """A request the API refused (422): the fields it got wrong."""

    detail: str = Field(description="every problem in one line, '; ' between them (the "
                                    "first ten)")
    errors: list[Problem] | None = Field(
        None, description="each problem (the first fifty); left out when the request was "
                          "refused as a whole (e.g. an unknown filter)")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "no bearer token, or the wrong one"},
    422: {"model": ValidationFailure, "description": "the request is malformed or out of "
                                                     "bounds"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no such run, rig, calibration, sequence or recipe"}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorDetail, "description": "the rig cannot do it now (busy, not "
                                               "connected, no calibration, no such run on it)"},
    503: {"model": ErrorDetail, "description": "the rig did not answer"}}
# For a rig another site of the lab serves (host.lab.commands); 503 is also its site offline.
ELSEWHERE: dict[int | str, dict[str, Any]] = {
    504: {"model": ErrorDetail, "description": "the site serving the rig did not answer in "
                                               "30 s"}}
# What the endpoints that are not JSON answer.
CSV: dict[int | str, dict[str, Any]] = {200: {
    "description": "CSV with a header row", "content": {"text/csv": {"schema": {"type": "string"}}}}}
EVENT_STREAM: dict[int | str, dict[str, Any]] = {200: {
    "description": "server-sent events", "content": {"text/event-stream": {
        "schema": {"type": "string"}}}}}
PNG: dict[int | str, dict[str, Any]] = {200: {
    "description": "a PNG image", "content": {"image/png": {
        "schema": {"type": "string", "contentMediaType": "image/png"}}}}}


class Event(_Answer):
    """Something that happened on a rig or in a run: a safety action, a link gap, a note."""

    id: int = Field(description="event id")
    run_id: int | None = Field(description="the run it belongs to; null for a rig's event")
    rig: str | None = Field(description="the rig it happened on")
    t: Timestamp = Field(description="when the host recorded it (ISO 8601, UTC)")
    code: int | None = Field(description="the device's EV_* code (protocol/schema.py); null "
                                         "for an event of the host")
    name: str = Field(description="what kind of event, e.g. interlock_open, edited")
    message: str = Field(description="what happened, in words")
    data: dict[str, Any] | None = Field(description="the event's figures (per event name), "
                                                    "e.g. {by, field, old, new} of `edited`")
    key: str | None = Field(description="the recorder's identity for the event (recording it "
                                         "twice is a no-op)")
    text: str | None = Field(None, description="the event in words with units (the run "
                                               "endpoints give it)")


class _RunFields(_Answer):
    """What every view of a run shows."""

    id: int = Field(description="run id")
    rig: str = Field(description="the rig it runs on")
    kind: KindName = Field(description="the kind of run")
    state: RunState = Field(description="queued, running, interrupted (the rig has been out "
                                        "of reach past the run's host-loss grace), paused (its "
                                        "sequence's check-up runs), completed, aborted or "
                                        "failed")
    params: dict[str, Any] = Field(description="the kind's parameters as started (the "
                                               "LifetimeParams, PhotostabilityParams or "
                                               "JvlParams schema); an imported run's are "
                                               "partly unknown")
    progress: float = Field(description="how far along, 0 to 1")
    run_key: str | None = Field(description="the run's identity on the wire, 16 hex digits")
    board_id: str | None = Field(description="the board it was started on, 16 hex digits")
    imported: bool = Field(description="adopted from a board that ran it for another service")
    created_at: Timestamp = Field(description="when it was created (ISO 8601, UTC)")
    started_at: Timestamp | None = Field(description="when the device started it")
    finished_at: Timestamp | None = Field(description="when it ended")
    error: str | None = Field(description="why it failed or was aborted, in words")
    calibration_id: int | None = Field(description="the calibration version it was started "
                                                   "with (GET /api/calibrations/{id})")
    device: dict[str, Any] | None = Field(description="the device under test as given at the "
                                                      "start (DeviceUnderTest; fields not "
                                                      "given are left out)")
    operator: str | None = Field(description="who ran it")
    notes: str = Field(description="free text")
    tags: list[str] = Field(description="the run's tags")
    archived: bool = Field(description="hidden from lists (nothing is deleted)")
    sequence_id: int | None = Field(None, description="the test sequence it is a step of")
    step_index: int | None = Field(None, description="its step in that sequence, from 0")
    checkup_of: int | None = Field(None, description="a check-up: the stress run it "
                                                     "interrupted")
    channel: int = Field(0, description="the rig's channel (pixel) it runs on")


class RunListItem(_RunFields):
    """A run as lists show it: no calibration, its kind's headline figures for the summary."""

    figures: dict[str, Any] = Field(description="the kind's headline figures from the "
                                                "summary, {name: value or null} (GET "
                                                "/api/figures says them in words)")
    notes_in_summary: int = Field(description="how many notes the summary holds")


class RunPage(_Answer):
    """A page of runs, newest first."""

    runs: list[RunListItem] = Field(description="the runs on this page, newest first")
    next_cursor: str | None = Field(description="give it as cursor for the next page; null: "
                                                "this was the last")


class Run(_RunFields):
    """One run with its summary and the calibration it was measured with."""

    summary: dict[str, Any] | None = Field(
        description="the finished run's analysis, per kind (figures named with their unit, "
                    "e.g. t50_s, l0_cd_m2, eqe_max_pct; `notes` in words); null before it "
                    "ends")
    calibration: dict[str, Any] | None = Field(
        description="the rig's PhotodiodeCalibration when the run was created, with the "
                    "device's area_mm2 as pixel_area_mm2 when the run gave one")


class RunWithEvents(Run):
    """One run with its summary, calibration and events."""

    events: list[Event] = Field(description="the run's events, oldest first")


class StoredCalibration(_Answer):
    """One stored calibration version of a rig (every PUT makes a new one)."""

    id: int = Field(description="calibration version id (a run's calibration_id)")
    rig: str = Field(description="the rig it calibrates")
    calibration: dict[str, Any] = Field(description="the PhotodiodeCalibration as stored")
    set_at: Timestamp = Field(description="when it was stored (ISO 8601, UTC)")


class Streams(_Answer):
    """The live streams' clients."""

    clients: int = Field(description="live stream clients now")
    behind: int = Field(description="of them, those behind (about to be cut)")
    cut: int = Field(description="clients cut for falling behind since the service started")


class MqttHealth(_Answer):
    """The MQTT telemetry's publisher (lumenrig serve --mqtt)."""

    broker: str = Field(description="the broker and topic prefix, mqtt://HOST:PORT/PREFIX")
    site: str = Field(description="this service's site, the topic level after the prefix")
    connected: bool = Field(description="the broker is connected now")
    published: int = Field(description="messages the broker acknowledged since the service "
                                       "started")
    dropped: int = Field(description="messages dropped since the service started: pushed out "
                                     "of the full queue (the oldest go first) or not "
                                     "encodable; the store has every sample all the same")
    queued: int = Field(description="messages waiting for the broker or for its "
                                    "acknowledgement now")


class Health(_Answer):
    """Whether the service can do its work."""

    status: Literal["ok", "degraded"] = Field(description="ok, or degraded: the database or "
                                                          "a rig's ingest has an error")
    database: str = Field(description="ok, or the database's error")
    dialect: str = Field(description="the database: sqlite or postgresql")
    rigs: dict[str, bool] = Field(description="{rig: its link is connected}")
    ingest_errors: dict[str, str] = Field(description="{rig: the last samples that could not "
                                                      "be stored, why}")
    streams: Streams = Field(description="live stream clients")
    mqtt: MqttHealth | None = Field(None, description="the MQTT telemetry, null when the "
                                                      "service publishes none (no --mqtt)")


class Recovery(_Answer):
    """The run manager's recovery of samples missing from a rig's stream."""

    samples_missing: int = Field(description="samples missing now (being asked for again)")
    samples_lost: int = Field(description="samples the board no longer held when asked")
    resend_requests: int = Field(description="RESEND requests sent")
    resend_refused: int = Field(description="RESEND requests the board refused")


class OrphanRun(_Answer):
    """A run the board holds on a channel that this service did not start."""

    channel: int = Field(0, description="the board's channel it runs on")
    run_key: str = Field(description="its identity on the wire, 16 hex digits")
    mode: str | None = Field(description="the device mode it runs as")
    state: str = Field(description="the device's state")
    next_seq: int = Field(description="the seq of the board's next sample")
    board_id: str | None = Field(description="the board, 16 hex digits")


class DeviceFlags(_Answer):
    """The device's flag bits, named."""

    output_on: bool = Field(description="the drive output is on")
    laser_on: bool = Field(description="the laser is on")
    shutter_open: bool = Field(description="the shutter is open")
    interlock_ok: bool = Field(description="the interlock is closed (safe to drive)")


class Ambient(_Answer):
    """The bench's temperature and humidity, newest reading."""

    temperature_c: float = Field(description="bench temperature, °C")
    humidity_pct: float = Field(description="relative humidity, %")
    age_s: float = Field(description="how old the reading is, s")
    source: Literal["status", "sample"] = Field(description="from a run's sample, or the "
                                                            "STATUS an idle rig is asked for")


class Site(_Answer):
    """A service of the lab sharing this database."""

    name: str = Field(description="the site's name (--site, default the host name)")
    api_url: str | None = Field(description="where its API answers")
    started_at: str = Field(description="when its service started, ISO 8601 UTC")
    heartbeat_at: str | None = Field(description="its last heartbeat (the database's clock); "
                                                 "null once it stopped cleanly")
    heartbeat_age_s: float | None = Field(description="age of that heartbeat, s")
    online: bool = Field(description="a heartbeat in the last 15 s")


class Channel(_Answer):
    """One channel (pixel) of a board, as its last HELLO_ACK or HEARTBEAT told it."""

    channel: int = Field(description="its number, from 0")
    can: list[str] = Field(description="what it can do: drive (supply and meter), photodiode, "
                                       "laser (the laser and shutter point at it)")
    state: str = Field(description="its state")
    mode: str = Field(description="its run mode")
    run_key: str | None = Field(description="the run it holds (or last held), 16 hex digits; "
                                            "null when none")
    next_seq: int = Field(description="the seq of its next sample")
    output_on: bool = Field(description="its supply output is on")
    compliance: bool = Field(description="its current compliance has tripped")
    run: int | None = Field(None, description="the id of the run this service follows on it; "
                                              "null when none")
    last_sample: dict[str, Any] | None = Field(None, description="its last stored sample's "
                                                                 "columns (this service's runs)")
    device: str | None = Field(None, description="the device name label of the run followed "
                                                 "on it; null when none, or not named")
    trend: list[tuple[float, float]] = Field(
        default_factory=list,
        description="the followed run's normalised light so far for a sparkline, at most 60 "
                    "[t_s, ratio] pairs spread over the run, the newest last: L/L0 of a "
                    "lifetime, PL/PL0 of a photostability run's PL points, on time under "
                    "stress (s, from the hold's start, dark pauses taken out), smoothed as "
                    "the summary smooths; empty for a J-V-L sweep, before L0 and when no run")
    t_values: dict[str, float] = Field(
        default_factory=dict,
        description="the T-values the followed lifetime run has passed, as its summary "
                    "names them (t95_s, t80_s, t50_s: time under stress at which L/L0 first "
                    "fell to 0.95, 0.8, 0.5), s; only those passed")


class DeviceSnapshot(_Answer):
    """What the host last heard from the board; before a connection only `connected`."""

    rig: str | None = Field(None, description="the rig's name")
    url: str | None = Field(None, description="where the link talks to the board")
    link_state: str | None = Field(None, description="the link's state")
    connected: bool = Field(description="the link is up")
    detail: str | None = Field(None, description="why the link is in its state, in words")
    schema_hash: str | None = Field(None, description="the host's protocol schema hash, hex")
    device_schema_hash: str | None = Field(None, description="the board's schema hash, hex")
    firmware_version: str | None = Field(None, description="major.minor.patch")
    board_id: str | None = Field(None, description="the board, 16 hex digits")
    reset_cause: str | None = Field(None, description="why the board last started")
    capabilities: list[str] | None = Field(None, description="what the board has, e.g. laser, "
                                                             "ambient")
    state: str | None = Field(None, description="the device's state")
    mode: str | None = Field(None, description="the device's run mode")
    run_key: str | None = Field(None, description="the run it holds, 16 hex digits")
    next_seq: int | None = Field(None, description="the seq of its next sample")
    flags: DeviceFlags | None = Field(None, description="output, laser, shutter, interlock")
    fault: str | None = Field(None, description="the fault the last STATUS gave")
    last_sample: dict[str, Any] | None = Field(None, description="the last sample as the "
                                                                 "board sent it (raw units)")
    last_sample_age_s: float | None = Field(None, description="age of the last sample, s")
    heartbeat_age_s: float | None = Field(None, description="age of the last heartbeat, s")
    status_age_s: float | None = Field(None, description="age of the last STATUS, s")
    ambient: Ambient | None = Field(None, description="temperature and humidity; null on a "
                                                      "board without the sensor")
    channels: list[Channel] | None = Field(None, description="the board's channels (pixels)")


class Rig(_Answer):
    """A rig: its link, the board's state, the run it is busy with."""

    name: str = Field(description="the rig's name")
    spec: str = Field(description="where it is: a serial port, a pyserial URL or sim:PRESET")
    simulated: bool = Field(description="a simulated rig")
    connected: bool = Field(description="the link is up")
    device: DeviceSnapshot = Field(description="what the host last heard from the board")
    link: dict[str, Any] = Field(description="link counters: frames, bytes, crc_errors, "
                                             "retries, samples_received, gaps_detected, "
                                             "last_frame_age_s (s) and more")
    recovery: Recovery = Field(description="recovery of missing samples")
    board_id: str | None = Field(description="the board behind the port, 16 hex digits")
    active_run: int | None = Field(description="a run it is busy with (the lowest channel's)")
    active_runs: dict[str, int] = Field(default_factory=dict, description="the run on each "
                                        "busy channel, by channel number")
    orphan_run: OrphanRun | None = Field(description="a run the board holds that this "
                                                     "service did not start (the lowest "
                                                     "channel's)")
    orphan_runs: list[OrphanRun] = Field(default_factory=list, description="every channel's "
                                         "run the board holds that this service did not "
                                         "start, by channel")
    ingest_error: str | None = Field(description="the last samples that could not be stored, "
                                                 "why")
    selftest: dict[str, Any] | None = Field(None, description="the board's last full "
                                                              "self-test, {rig, passed, "
                                                              "checks} (POST /api/rigs/{rig}/"
                                                              "selftest); null before one")
    last_sample: dict[str, Any] | None = Field(description="the last stored sample's columns")
    simulator: dict[str, Any] | None = Field(None, description="a simulated rig's preset, "
                                                               "accel, spread, channel cards "
                                                               "(0: none) and statistics")
    site: str | None = Field(None, description="the site (service) serving it in the lab")
    online: bool = Field(True, description="its site is online (a heartbeat in the last "
                                           "15 s); always true for this service's own rigs")
    remote: bool = Field(False, description="served by another site: the state is what that "
                                            "site last wrote to the database (every 5 s)")


class RigWithCalibration(Rig):
    """A rig with its current photodiode calibration."""

    calibration: dict[str, Any] | None = Field(description="the PhotodiodeCalibration stored "
                                                           "for it")
    calibration_error: str | None = Field(description="why the stored calibration no longer "
                                                      "passes its bounds; null when it does")


class PixelReplaced(_Answer):
    """A simulated rig's channel, given a fresh pixel."""

    rig: str = Field(description="the rig")
    channel: int = Field(description="the channel that has a fresh pixel")
    pixels_replaced: int = Field(description="fresh pixels this rig's simulator has been "
                                             "given since the service started")


class OrphanStopped(_Answer):
    """An orphan run, stopped."""

    rig: str = Field(description="the rig")
    stopped: OrphanRun = Field(description="the run that was stopped")
    orphan_run: OrphanRun | None = Field(description="the board's orphan run on that channel "
                                                     "now")


class Samples(_Answer):
    """A run's samples as rows."""

    run: int = Field(description="run id")
    columns: list[str] = Field(description="the columns' names, with units (t_s, voltage_v, "
                                           "current_a, luminance_cd_m2, ...)")
    rows: list[list[float | None]] = Field(description="one row per sample, values in "
                                                       "`columns` order; null where a run "
                                                       "kind has no such value")
    total: int = Field(description="samples in the range before downsampling")
