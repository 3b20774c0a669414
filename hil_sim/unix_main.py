"""What the simulator runs on the MicroPython unix port: the firmware's loop on a SimBoard.

The launcher runs this file as __main__; firmware/main.py stays the Pico's entry and never
imports the simulator. The board comes from LUMENRIG_SIM_* (hil_sim.board.build_from_env).
"""

import main as firmware_main
from hil_sim import board as sim_board


def main():
    """Build the simulated board and hand it to the firmware; returns only if the loop does."""
    firmware_main.run(sim_board.build_from_env())


if __name__ == "__main__":
    main()
