"""The run kinds, one object each: what a kind's parameters are, the device program they
become, how its progress, summary and rig-card trend are made, and the column its plot is
shaped on.

The API's request body, the CLI, the store's check on a run's kind and the dashboard's run
form (built from the API's schema) all read KINDS; adding a kind is one RunKind here, its
functions (params, programs, progress, summaries, trend) and their tests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import Field, create_model

from host.analysis.errors import INPUT_ERRORS
from host.runs import progress, summaries
from host.runs.kindnames import KIND_NAMES
from host.runs.labels import RunLabels
from host.runs.params import JvlParams, LifetimeParams, PhotostabilityParams, RunParams
from host.runs.programs import (
    common_fields,
    jvl_program,
    lifetime_program,
    photostability_program,
)
from host.runs.trend import LIFETIME_TREND, PHOTOSTABILITY_TREND, TrendRule
from host.runs.units import Converter
from host.selftest import checks as parts
from protocol import schema

# The board parts every run measures with: the supply (DAC), the DUT's V and I (INA226) and
# the photodiode (ADS1115 and the TIA); a run needing a part its rig's self-test failed is
# refused (host.selftest).
MEASURING_PARTS = (parts.INA226, parts.DAC, parts.ADS1115, parts.PHOTODIODE)

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class RunKind:
    """One kind of run, and everything the host does differently for it."""

    name: str
    params: type[RunParams]
    params_required: bool  # False: a request may leave params out (the defaults run)
    modes: tuple[int, ...]  # the device modes this kind runs as (an imported run's kind)
    light: str  # "el": the photodiode reads the device's luminance; "pl": a film's PL
    needs_calibration: bool  # the rig's photodiode calibration must be stored to start
    plot_column: str  # the column a downsampled plot keeps the shape of
    progress_figure: tuple[str, str] | None  # (progress message field, label) for a CLI
    program: Callable[[Any, Converter], dict[str, int]]
    progress: Callable[[Any, Any, Columns, dict[str, Any]], float]
    summary: Callable[[dict[str, Any], dict[str, Any] | None, Columns, list[dict[str, Any]]],
                      dict[str, Any]]
    summary_columns: tuple[str, ...]  # what summary reads: a long run's other columns stay on disk
    figures: tuple[str, ...]  # the summary's headline figures, shown in run lists
    parts: tuple[str, ...] = MEASURING_PARTS  # board parts it needs (host.selftest.checks)
    trend: TrendRule | None = None  # its normalised light on the rig card (None: no trend)

    def headline(self, summary: dict[str, Any] | None) -> dict[str, Any]:
        """The headline figures of a summary (null where it has none)."""
        return {name: (summary or {}).get(name) for name in self.figures}

    def start_fields(self, params: Any, converter: Converter, run_key: int,
                     dark_pd_pa: int = 0) -> dict[str, int]:
        """Every START_RUN field for a new run of this kind (resume fields zero)."""
        fields = common_fields(params, run_key, dark_pd_pa)
        fields.update(self.program(params, converter))
        return fields

    def summarize(self, params: dict[str, Any], calibration: dict[str, Any] | None,
                  cols: Columns, events: list[dict[str, Any]]) -> dict[str, Any]:
        """The run's analysis; on data it cannot analyse, the reason in notes."""
        try:
            return self.summary(params, calibration, cols, events)
        except INPUT_ERRORS as exc:
            return {"notes": ["not analysed: %s" % exc]}


LIFETIME = RunKind(
    name="lifetime", params=LifetimeParams, params_required=True,
    modes=(schema.MODE_CONSTANT_VOLTAGE, schema.MODE_CONSTANT_CURRENT), light="el",
    needs_calibration=True, plot_column="luminance_cd_m2", progress_figure=("l_over_l0", "L/L0"),
    program=lifetime_program, progress=progress.lifetime_progress,
    summary=summaries.lifetime_summary,
    summary_columns=("t_s", "luminance_cd_m2", "voltage_v", "flags"),
    figures=("l0_cd_m2", "t95_s", "t80_s", "t50_s", "t50_fit_s", "l_end_over_l0"),
    trend=LIFETIME_TREND)

PHOTOSTABILITY = RunKind(
    name="photostability", params=PhotostabilityParams, params_required=False,
    modes=(schema.MODE_PHOTOSTABILITY,), light="pl", needs_calibration=False,
    plot_column="pl", progress_figure=("pl_fraction", "PL"),
    program=photostability_program, progress=progress.photostability_progress,
    summary=summaries.photostability_summary, summary_columns=("t_s", "pl", "flags"),
    figures=("min_fraction", "t_min_s", "final_fraction"),
    parts=MEASURING_PARTS + (parts.SHUTTER,), trend=PHOTOSTABILITY_TREND)

JVL = RunKind(
    name="jvl", params=JvlParams, params_required=False, modes=(schema.MODE_SWEEP,),
    light="el", needs_calibration=True, plot_column="current_a", progress_figure=None,
    program=jvl_program, progress=progress.jvl_progress, summary=summaries.jvl_summary,
    summary_columns=("voltage_v", "current_a", "luminance_cd_m2", "flags"),
    figures=("eqe_max_pct", "ce_max_cd_a", "pe_max_lm_w", "l_max_cd_m2", "turn_on_v"))

KINDS: dict[str, RunKind] = {kind.name: kind for kind in (LIFETIME, PHOTOSTABILITY, JVL)}
if tuple(KINDS) != KIND_NAMES:
    raise RuntimeError("host.runs.kindnames must list %s" % (tuple(KINDS),))


def kind_of_mode(mode: int) -> RunKind | None:
    """The kind a board's run mode was started as (None for a mode no kind runs)."""
    return next((kind for kind in KINDS.values() if mode in kind.modes), None)


class RunTarget(RunLabels):
    """What every run request names besides its kind and parameters: the rig, and the
    run's labels (the device under test, operator, notes, tags)."""

    rig: str = Field("rig1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                     description="the rig to run on (GET /api/rigs lists them)")
    channel: int = Field(0, ge=0, le=schema.MAX_CHANNELS - 1,
                         description="the rig's channel (pixel) to run on; GET "
                                     "/api/rigs/{rig} lists its channels")


def _request_model(kind: RunKind) -> type[RunTarget]:
    """POST /api/runs body for one kind, named as the API's schema shows it."""
    name = kind.params.__name__.removesuffix("Params") + "Request"
    params: Any = (kind.params, Field(
        ... if kind.params_required else kind.params(),
        description="the %s run's parameters%s" % (
            kind.name, "" if kind.params_required else "; left out: the defaults")))
    return create_model(name, __base__=RunTarget,  # type: ignore[call-overload]
                        kind=(Literal[kind.name], Field(description="the kind of run")),
                        params=params)


_REQUESTS = tuple(_request_model(kind) for kind in KINDS.values())
RunRequest = Annotated[Union[_REQUESTS],  # noqa: UP007 (a union built from KINDS)
                       Field(discriminator="kind")]
