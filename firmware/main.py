"""Firmware entry point: pick the board, make it safe, hand it to the rig, loop forever."""

import sys

from lumenfw.board import safe_outputs

# Imported one by one with the watchdog fed in between: on a Pico without precompiled .mpy
# files, compiling everything in one import could outlast the watchdog's timeout.
_FIRMWARE_MODULES = (
    "protocol.messages", "protocol.decoder", "protocol.writer", "lumenfw.photodiode",
    "lumenfw.hardware", "lumenfw.runprogram", "lumenfw.modes", "lumenfw.controller",
    "lumenfw.commands", "lumenfw.link", "lumenfw.safety", "lumenfw.rig",
)


def build_board():
    """The Pico's real board on rp2 (None when its safe-boot jumper is set); the simulated
    board, configured by LUMENRIG_SIM_*, everywhere else."""
    if sys.platform == "rp2":
        from lumenfw import board_pico

        if board_pico.safe_boot_requested():
            return None
        return board_pico.build()
    from hil_sim import board as sim_board

    return sim_board.build_from_env()


def main():
    board = build_board()
    if board is None:
        return  # back to the REPL, where mpremote can reach the board
    safe_outputs(board)  # pins (no I2C yet), before anything else is built, let alone talks
    for module in _FIRMWARE_MODULES:
        __import__(module)
        board.feed_watchdog()
    from lumenfw.rig import Rig

    rig = Rig(board)
    rig.boot()
    rig.run_forever()


main()
