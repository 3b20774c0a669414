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


def sim(
    device: Annotated[str, typer.Option(help="preset: " + ", ".join(PRESETS))] = "G1",
    accel: Annotated[str, typer.Option(
        help="device time runs at most this many times faster (>= 1), or 'max'")] = "1",
    seed: Annotated[int, typer.Option(min=0, help="seed of the simulated physics noise")] = 0,
    faults: Annotated[str, typer.Option(help="fault spec, grammar in hil_sim/README.md")] = "",
    spread: Annotated[str, typer.Option(
        help="the pixel is one of a substrate: its lifetime, efficiency and current vary "
             "by this relative spread (0 to 0.5), drawn from the seed")] = "0",
    channels: Annotated[str, typer.Option(
        help="a board of this many channel cards (1 to 8), a pixel on each (their spread: "
             "--spread); 0: the one-channel board")] = "0",
) -> None:
    """Start a simulated rig on a pseudo-terminal; print its port (first line); run until
    Ctrl-C or SIGTERM."""
    # The one definition of the sim command: `lumenrig sim` registers this very function.
    try:
        spec = make_sim_spec(device, accel, seed, faults, spread=spread, channels=channels)
    except SimSpecError as exc:
        typer.echo("error: %s" % exc, err=True)
        raise typer.Exit(2) from None
    run_until_signalled(spec)


app = typer.Typer(add_completion=False, help="Simulated lumenrig rigs.")


@app.callback()
def _group():
    """Simulated lumenrig rigs (the real firmware on the MicroPython unix port)."""


app.command("sim")(sim)


if __name__ == "__main__":
    app()
