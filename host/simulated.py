"""The host's one door to the simulator (hil_sim): sim: rig specs, simulated rigs, `lumenrig sim`
(the simulator's own command, registered as the host's).

Every other host module asks here, so the host's dependence on hil_sim is this file's imports.
"""

from typing import TYPE_CHECKING

from hil_sim.cli import sim as sim_command
from hil_sim.spec import is_sim_spec, parse_sim_spec

if TYPE_CHECKING:
    from hil_sim.launcher import SimRig
    from photometry.photodiode import PhotodiodeCalibration

__all__ = ["calibration", "check_sim_spec", "is_sim_spec", "make_rig", "sim_command"]


def check_sim_spec(spec: str) -> None:
    """Raise ValueError (the parser's message) unless spec is a usable sim: spec."""
    parse_sim_spec(spec)


def make_rig(spec: str) -> "SimRig":
    """The SimRig for a sim: spec, not started; its .preset names the simulated device."""
    return parse_sim_spec(spec).make_rig()


def calibration(preset: str) -> "PhotodiodeCalibration":
    """The photodiode calibration a lab would store for a rig holding this preset's device."""
    # Imported here: computing it takes colour-science, which is slow to import.
    from hil_sim.optics import calibration as preset_calibration

    return preset_calibration(preset)
