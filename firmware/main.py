"""Firmware entry point: pick the board, make it safe, hand it to the rig, loop forever."""

import sys

from lumenfw.board import safe_outputs


def build_board():
    """The Pico's real board on rp2; the simulated board (from LUMENRIG_SIM_*) elsewhere."""
    if sys.platform == "rp2":
        from lumenfw import board_pico

        return board_pico.build()
    from hil_sim import board as sim_board

    return sim_board.build_from_env()


def main():
    board = build_board()
    safe_outputs(board)  # pins only (no I2C yet), before anything else exists, let alone talks
    from lumenfw.rig import Rig

    rig = Rig(board)
    rig.boot()
    rig.run_forever()


main()
