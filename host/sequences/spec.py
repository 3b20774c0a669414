"""What a test sequence is: its steps (runs, waits, a stress with check-ups) and its
metadata, validated whole before anything starts.

A step's `params` are its run kind's own model (host.runs.params), so a bad field fails
with the same bound and words as POST /api/runs, at `steps -> N -> KIND -> params -> FIELD`.
"""

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from host.runs.labels import DeviceUnderTest, Notes, Operator, Tags
from host.runs.params import (
    MAX_DURATION_S,
    MAX_VOLTAGE_V,
    JvlParams,
    LifetimeParams,
    PhotostabilityParams,
)

MAX_STEPS = 64
MAX_FRACTIONS = 16
# A check-up interrupts the stress at most this often (s of stress time): each costs a
# stop, a sweep and a settle, and the pixel must spend most of its time under stress.
MIN_CHECKUP_EVERY_S = 10.0
Text = Annotated[str, Field(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class JvlStep(_Strict):
    """A J-V-L sweep."""

    kind: Literal["jvl"] = Field(description="a J-V-L sweep")
    params: JvlParams = Field(default_factory=JvlParams, description="the sweep (POST /api/runs)")


class Checkups(_Strict):
    """When a stress is interrupted for a J-V-L check-up, and which: every `every_s` of
    stress time, and once as L/L0 first falls to each of `at_fractions` (lifetime)."""

    every_s: float | None = Field(None, ge=MIN_CHECKUP_EVERY_S, le=MAX_DURATION_S,
                                  description="a check-up after every this much stress, s")
    at_fractions: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=list, max_length=MAX_FRACTIONS,
        description="a check-up when L/L0 first falls to each of these (lifetime only)")
    step: JvlStep = Field(description="the check-up sweep")
    allow_above_stress: bool = Field(False, description=(
        "let the check-up sweep go above the stress voltage (it ages the pixel faster than "
        "the stress does)"))

    @model_validator(mode="after")
    def _when(self):
        if self.every_s is None and not self.at_fractions:
            raise ValueError("give every_s, at_fractions or both")
        if len(set(self.at_fractions)) != len(self.at_fractions):
            raise ValueError("at_fractions holds a fraction twice")
        self.at_fractions = sorted(self.at_fractions, reverse=True)
        return self


def stress_voltage_v(params: LifetimeParams) -> float:
    """The most voltage the stress puts on the pixel: its held voltage under CV, else the
    ramp's ceiling or the constant-current compliance voltage."""
    return params.voltage_v if params.voltage_v is not None else params.max_voltage_v


class LifetimeStep(_Strict):
    """An operational lifetime, with check-ups if given."""

    kind: Literal["lifetime"] = Field(description="an operational lifetime")
    params: LifetimeParams = Field(description="the stress (POST /api/runs)")
    checkups: Checkups | None = Field(None, description="check-ups during the stress")

    @model_validator(mode="after")
    def _checkup_below_stress(self):
        c = self.checkups
        if c is None:
            return self
        never = [f for f in c.at_fractions if f < self.params.stop_fraction]
        if never:
            raise ValueError("checkups.at_fractions %s are below the stress's stop_fraction "
                             "%g: the run stops before it gets there"
                             % (never, self.params.stop_fraction))
        if c.allow_above_stress:
            return self
        limit_v = stress_voltage_v(self.params)
        if c.step.params.stop_v > limit_v:
            raise ValueError(
                "checkups.step.params.stop_v %g V is above the stress voltage %g V: lower "
                "it, or set checkups.allow_above_stress" % (c.step.params.stop_v, limit_v))
        return self


class PhotostabilityStep(_Strict):
    """A film under the laser, with J-V-L check-ups if given (every_s only: PL has no L0)."""

    kind: Literal["photostability"] = Field(description="a film under the laser")
    params: PhotostabilityParams = Field(default_factory=PhotostabilityParams,
                                         description="the exposure (POST /api/runs)")
    checkups: Checkups | None = Field(None, description="check-ups during the exposure")

    @model_validator(mode="after")
    def _time_only(self):
        if self.checkups is not None and self.checkups.at_fractions:
            raise ValueError("checkups.at_fractions are L/L0 marks of a lifetime; a "
                             "photostability run takes checkups.every_s")
        return self


class WaitStep(_Strict):
    """Outputs off for a while (the pixel rests)."""

    kind: Literal["wait"] = Field(description="outputs off for duration_s")
    duration_s: float = Field(gt=0, le=MAX_DURATION_S, description="how long, s")


Step = Annotated[Union[JvlStep, LifetimeStep, PhotostabilityStep, WaitStep],
                 Field(discriminator="kind")]
RUN_STEPS = (JvlStep, LifetimeStep, PhotostabilityStep)


class ReportMetadata(_Strict):
    """What a report states that the service cannot know (ISOS-style checklist); the rest
    (stress, ambient, light, sample period, L0 rule, calibration) is filled in from runs."""

    atmosphere: Text | None = Field(None, description="e.g. N2 glovebox, ambient air")
    encapsulation: Text | None = Field(None, description="e.g. glass lid and UV epoxy")
    illumination_source: Text | None = Field(None, description="light source, if any")
    load: Text | None = Field(None, description="electrical state between measurements")
    protocol: Text | None = Field(None, description="e.g. ISOS-L-1, ISOS-D-1")
    remarks: Notes = ""


class SequenceRequest(_Strict):
    """POST /api/sequences: a rig, the device, its steps in order."""

    rig: str = Field(min_length=1, max_length=64, description="the rig to run it on")
    channel: int = Field(0, ge=0, le=7, description="the rig's channel (0 on a one-channel "
                                                    "rig)")
    name: Text | None = Field(None, description="what the sequence is, e.g. a recipe's name")
    device: DeviceUnderTest | None = Field(None, description="the device under test")
    operator: Operator | None = Field(None, description="who runs it")
    notes: Notes = ""
    tags: Tags = Field(default_factory=list)
    metadata: ReportMetadata = Field(default_factory=ReportMetadata,
                                     description="what the report states beside the runs")
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS,
                              description="in order: run steps (jvl, lifetime, "
                                          "photostability) and waits")


def run_steps(spec: dict[str, Any]) -> list[Any]:
    """The stored spec's steps as models again (a stored spec was validated when made)."""
    return SequenceRequest.model_validate(spec).steps


__all__ = ["MAX_VOLTAGE_V", "Checkups", "JvlStep", "LifetimeStep", "PhotostabilityStep",
           "RUN_STEPS", "ReportMetadata", "SequenceRequest", "Step", "WaitStep",
           "run_steps", "stress_voltage_v"]
