"""What a run says about itself besides what it measured: the device under test, who ran it,
notes and tags. Given when the run starts; the descriptive parts can be edited later.

The device's area is the one measured-relevant field: it replaces the calibration's pixel
area for the run (luminance from photocurrent and current density both divide by it), so it
is fixed at the start and never edited.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# Short labels: a name, a substrate id, a pixel like "A3", a batch like "2026-11-PeLED-7".
# Descriptions say what a label is; the API's schema adds the lengths from these Fields.
Label = Annotated[str, Field(min_length=1, max_length=128)]
# A tag is one word (no spaces or commas), so `?tag=` and the CLI take it as it is.
Tag = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^\s,]+$",
                           description="one word: no spaces or commas")]
Notes = Annotated[str, Field(max_length=4000, description="free text")]
Tags = Annotated[list[Tag], Field(max_length=16, description="words to find the run by "
                                                             "(GET /api/runs?tag=)")]
Operator = Annotated[str, Field(min_length=1, max_length=64)]  # a person's name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DeviceNames(_Strict):
    """What the device under test is called: the part of the device block an edit may change."""

    name: Label | None = Field(None, description="device name, e.g. G1")
    sample_id: Label | None = Field(None, description="substrate or sample id")
    pixel: Label | None = Field(None, description="pixel on the substrate, e.g. A3")
    batch: Label | None = Field(None, description="fabrication batch")


class DeviceUnderTest(DeviceNames):
    """The device a run measured. Every field is optional; area_mm2, when given, is the
    emitting area of this pixel and replaces the rig calibration's pixel area for the run."""

    structure: Annotated[str, Field(max_length=512)] | None = Field(
        None, description="layer stack, e.g. ITO/PEDOT:PSS/TFB/CsPbBr3/TPBi/LiF/Al")
    area_mm2: Annotated[float, Field(ge=1e-4, le=10000, allow_inf_nan=False)] | None = Field(
        None, description="emitting area, mm2; replaces the calibration's pixel area for "
                          "luminance and current density")


class RunLabels(_Strict):
    """The labels a run request may carry beside its kind and parameters."""

    device: DeviceUnderTest | None = Field(None, description="the device under test")
    operator: Operator | None = Field(None, description="who ran it")
    notes: Notes = ""
    tags: Tags = Field(default_factory=list)

    def stored(self) -> dict[str, Any]:
        """The columns the store keeps (device as a JSON object without unset fields)."""
        device = self.device.model_dump(exclude_none=True) if self.device else None
        return {"device": device or None, "operator": self.operator, "notes": self.notes,
                "tags": _unique(self.tags)}


class RunEdit(_Strict):
    """PATCH /api/runs/{id}: what a person may change after the fact (nothing measured).
    A device field given as null clears it; a field left out stays."""

    notes: Notes | None = Field(None, description="the new notes, in place of the old")
    tags: Tags | None = Field(None, description="the new tags, in place of the old")
    device: DeviceNames | None = Field(None, description="the device's names to change; one "
                                                         "given as null is cleared")
    by: Operator = Field("api", description="who makes the change (recorded in its event)")

    def changes(self) -> dict[str, Any]:
        """{field: new value} of what the body names; device fields as `device.NAME`."""
        out: dict[str, Any] = {}
        if self.notes is not None:
            out["notes"] = self.notes
        if self.tags is not None:
            out["tags"] = _unique(self.tags)
        if self.device is not None:
            for name in self.device.model_fields_set:
                out["device." + name] = getattr(self.device, name)
        return out


def _unique(tags: list[str]) -> list[str]:
    """Tags once each, in the order first given."""
    return list(dict.fromkeys(tags))


def apply_area(calibration: dict[str, Any] | None, labels: RunLabels
               ) -> dict[str, Any] | None:
    """The calibration a run is measured with: the rig's, with the device's area in place
    of the calibration's pixel area when the request gives one."""
    if calibration is None or labels.device is None or labels.device.area_mm2 is None:
        return calibration
    return dict(calibration, pixel_area_mm2=labels.device.area_mm2)
