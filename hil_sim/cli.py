"""`lumenrig sim`: run one simulated rig and print the port the host opens (CPython)."""

import signal
import sys
from typing import Annotated

import typer

from hil_sim.spec import PRESETS, SimSpecError, make_sim_spec

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stop(Exception):
    """Raised by the signal handler to leave the wait."""


def _on_signal(signum, frame):
    for sig in _SIGNALS:  # a second Ctrl-C must not interrupt the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise _Stop


def sim_command(device, accel=1.0, seed=0, faults="", spread=0.0, channels=0):
    """`lumenrig sim`: start a simulated rig, print its port (first line of stdout), run
    until SIGINT or SIGTERM, then stop it cleanly. Raises SimSpecError (a ValueError) for a
    bad preset, accel, seed, fault text, spread or channel count, before anything starts.
    Main thread only."""
    run_until_signalled(make_sim_spec(device, accel, seed, faults, spread=spread,
                                      channels=channels))


def run_until_signalled(spec, **rig_options):
    """Run spec's rig, print its port (flushed), return after SIGINT or SIGTERM, cleaned up.

    Main thread only (it installs signal handlers, and restores the previous ones).
    """
    rig = spec.make_rig(**rig_options)
    previous = {}
    try:
        for sig in _SIGNALS:
            previous[sig] = signal.signal(sig, _on_signal)
        rig.start()
        print(rig.port, flush=True)
        print(f"simulated rig {spec}, firmware log {rig.log_path}", file=sys.stderr,
              flush=True)
        while True:
            signal.pause()
    except _Stop:
        print(f"stopping; counters {rig.stats}", file=sys.stderr, flush=True)
    finally:
        rig.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


app = typer.Typer(add_completion=False, help="Simulated lumenrig rigs.")


@app.callback()
def _group():
    """Simulated lumenrig rigs (the real firmware on the MicroPython unix port)."""


@app.command("sim")
def _sim(
    device: Annotated[str, typer.Option("--device", help="preset: " + ", ".join(PRESETS))],
    accel: Annotated[str, typer.Option(
        help="at most this many device seconds per wall second (>= 1), or 'max'")] = "1",
    seed: Annotated[int, typer.Option(help="seed of the simulated physics noise")] = 0,
    faults: Annotated[str, typer.Option(help="link faults, grammar in hil_sim/README.md")] = "",
    spread: Annotated[str, typer.Option(
        help="the pixel is one of a substrate: its parameters vary by this relative spread "
             "(0 to 0.5), drawn from the seed")] = "0",
    channels: Annotated[str, typer.Option(
        help="a board of this many channel cards (1 to 8), a pixel on each; "
             "0: the one-channel board")] = "0",
):
    """Start a simulated rig and print its port (first line). Runs until Ctrl-C or SIGTERM."""
    try:
        spec = make_sim_spec(device, accel, seed, faults, spread=spread, channels=channels)
    except SimSpecError as exc:
        raise typer.BadParameter(str(exc)) from None
    run_until_signalled(spec)


if __name__ == "__main__":
    app()
