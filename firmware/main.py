"""Firmware entry point: make the board safe, hand it to the device, loop forever.

On the Pico this file runs as __main__ and builds the real board; the simulator's entry
(hil_sim/unix_main.py) imports it and hands `run` the simulated board instead.
"""

import sys

from lumenfw.board import safe_outputs

# Imported one by one with the watchdog fed in between: on a Pico without precompiled .mpy
# files, compiling everything in one import could outlast the watchdog's timeout.
_FIRMWARE_MODULES = (
    "protocol.messages", "protocol.decoder", "protocol.writer", "lumenfw.photodiode",
    "lumenfw.parts", "lumenfw.runprogram", "lumenfw.modes", "lumenfw.controller",
    "lumenfw.selftest", "lumenfw.commands", "lumenfw.link", "lumenfw.safety", "lumenfw.device",
)


def run(board):
    """Make the board's outputs safe, import the rest with the watchdog fed, loop forever."""
    safe_outputs(board)  # pins (no I2C yet), before anything else is built, let alone talks
    for module in _FIRMWARE_MODULES:
        __import__(module)
        board.feed_watchdog()
    from lumenfw.device import Device

    device = Device(board)
    device.boot()
    device.run_forever()


def main():
    """The Pico's board, unless its safe-boot jumper asks to stay at the REPL."""
    if sys.platform != "rp2":
        raise SystemExit("firmware/main.py builds the Pico's board; on the unix port the "
                         "simulator runs hil_sim/unix_main.py")
    from lumenfw import board_pico

    if board_pico.safe_boot_requested():
        return  # back to the REPL, where mpremote can reach the board
    run(board_pico.build())


if __name__ == "__main__":
    main()
