"""What the simulator runs on the MicroPython unix port: the firmware's loop on a SimBoard.

The launcher runs this file as __main__; firmware/main.py stays the Pico's entry and never
imports the simulator. The board comes from LUMENRIG_SIM_* (hil_sim.board.build_from_env).
"""

import sys

import main as firmware_main
from hil_sim import board as sim_board
from lumenfw import board as firmware_board
from protocol import schema


def main():
    """Build the simulated board and hand it to the firmware; returns only if the loop does.

    First a line in the device log naming the files the VM loaded the firmware's packages
    from (the precompiled build's .mpy, or the sources): each package lives in one folder.
    """
    print("lumenrig sim: firmware from", firmware_main.__file__, firmware_board.__file__,
          schema.__file__, file=sys.stderr)
    firmware_main.run(sim_board.build_from_env())


if __name__ == "__main__":
    main()
