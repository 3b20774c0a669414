"""Simulated-rig specs `sim:PRESET?accel=K&seed=N&faults=F&source=S&heap=H&spread=S&channels=C`:
parse, check, format (CPython)."""

import math
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from hil_sim import presets
from hil_sim.chips import CARD_CHIP_NAMES
from hil_sim.faults import FaultPlan, FaultSpecError, parse_faults

PREFIX = "sim:"
PRESETS = tuple(presets.PRESETS)
MAX_ACCEL = 1e6
_MAX_SEED = 2**32 - 1
_NUMBER_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
# The firmware the VM runs: the precompiled build (what a Pico runs) or the sources.
SOURCES = ("mpy", "py")
# The unix port's -X heapsize: a whole number of bytes, kB (k) or MB (m).
_HEAP_RE = re.compile(r"([1-9][0-9]*)([km]?)\Z")
_HEAP_UNIT = {"": 1, "k": 1024, "m": 1024 * 1024}
MIN_HEAP_BYTES = 64 * 1024
MAX_HEAP_BYTES = 1024 * 1024 * 1024
_KEYS = ("accel", "seed", "faults", "source", "heap", "spread", "channels")
MAX_CHANNELS = 8  # channel cards a board takes (lumenfw/board_config.py MAX_CHANNELS)
_KEY_LIST = ", ".join(_KEYS)


class SimSpecError(ValueError):
    """A sim rig spec that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class SimSpec:
    """A checked simulated-rig spec. accel: at most this many device seconds per wall
    second, or None ("max": as fast as the CPU allows); seed: the physics noise seed;
    faults: the link fault plan; source: "mpy" (the precompiled build) or "py"; heap: the
    VM's heapsize text ("448k"), or None for the launcher's default (heap_for); spread: how
    far the pixel's parameters vary from the preset's (hil_sim.presets.pixel: a pixel of a
    substrate, drawn from the seed; 0 is the preset's own pixel); channels: a board of that
    many channel cards, a pixel of the preset on each (varied by spread, channel 0 being
    the one spread 0 gives alone), or 0: the one-channel board."""

    preset: str
    accel: float | None = 1.0
    seed: int = 0
    faults: FaultPlan = field(default_factory=FaultPlan)
    source: str = "mpy"
    heap: str | None = None
    spread: float = 0.0
    channels: int = 0

    def __str__(self):
        """Canonical spec text: parse_sim_spec(str(spec)) == spec."""
        params = []
        if self.accel is None:
            params.append("accel=max")
        elif self.accel != 1.0:
            params.append(f"accel={self.accel!r}")
        if self.seed:
            params.append(f"seed={self.seed}")
        faults = str(self.faults)
        if faults:
            params.append("faults=" + quote(faults, safe=":=,.+"))
        if self.source != "mpy":
            params.append("source=" + self.source)
        if self.heap is not None:
            params.append("heap=" + self.heap)
        if self.spread:
            params.append(f"spread={self.spread!r}")
        if self.channels:
            params.append(f"channels={self.channels}")
        return PREFIX + self.preset + ("?" + "&".join(params) if params else "")

    def make_rig(self, **options):
        """A SimRig for this spec (not started); options go to SimRig (state_dir, ...)."""
        from hil_sim.launcher import SimRig
        return SimRig(self.preset, accel=self.accel, seed=self.seed, faults=self.faults,
                      source=self.source, heap=self.heap, spread=self.spread,
                      channels=self.channels, **options)


def is_sim_spec(text):
    """True when a rig spec names the simulator rather than a serial port."""
    return text.startswith(PREFIX)


def check_preset(preset):
    """The preset name itself, or SimSpecError listing the known ones."""
    if preset not in PRESETS:
        hint = [p for p in PRESETS if p.lower() == preset.lower()]
        did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SimSpecError(
            f"unknown preset {preset!r}{did_you_mean}; presets are {', '.join(PRESETS)}")
    return preset


def check_accel(accel):
    """accel as a float in [1, MAX_ACCEL], or None for "max" (unpaced), else SimSpecError.
    accel only paces the board: what happens at which device time never depends on it."""
    if accel is None or accel == "max":
        return None
    if isinstance(accel, str):
        if not _NUMBER_RE.match(accel):
            raise SimSpecError(f"accel {accel!r} is not a plain decimal number or 'max'")
        accel = float(accel)
    accel = float(accel)
    if not (math.isfinite(accel) and 1 <= accel <= MAX_ACCEL):
        raise SimSpecError(f"accel must be 1 to {MAX_ACCEL:g} or 'max', got {accel!r}")
    return accel


def check_seed(seed):
    """seed as an int 0..2**32-1, else SimSpecError."""
    if isinstance(seed, str):
        if not (seed.isascii() and seed.isdigit()):
            raise SimSpecError(f"seed {seed!r} is not a non-negative integer")
        seed = int(seed)
    if not 0 <= seed <= _MAX_SEED:
        raise SimSpecError(f"seed must be 0 to {_MAX_SEED}, got {seed}")
    return seed


def check_source(source):
    """"mpy" or "py", else SimSpecError."""
    if source not in SOURCES:
        raise SimSpecError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    return source


def check_heap(heap):
    """The heapsize text, canonical ("192k"), for MIN_HEAP_BYTES..MAX_HEAP_BYTES, else
    SimSpecError. A heap too small for the firmware is not caught here: the VM then stops
    at boot with a MemoryError in the device log (a crash, restarted as any crash)."""
    text = str(heap).strip().lower()
    found = _HEAP_RE.match(text)
    if not found:
        raise SimSpecError(f"heap {heap!r} is not a size: a whole number of bytes, "
                           f"or with k or m (192k, 2m)")
    size = int(found.group(1)) * _HEAP_UNIT[found.group(2)]
    if not MIN_HEAP_BYTES <= size <= MAX_HEAP_BYTES:
        raise SimSpecError(f"heap must be 64k to 1024m, got {heap!r}")
    return text


def check_spread(spread):
    """spread as a float in 0..presets.MAX_SPREAD, else SimSpecError."""
    if isinstance(spread, str):
        if not _NUMBER_RE.match(spread):
            raise SimSpecError(f"spread {spread!r} is not a plain decimal number")
        spread = float(spread)
    spread = float(spread)
    if not (math.isfinite(spread) and 0 <= spread <= presets.MAX_SPREAD):
        raise SimSpecError(f"spread must be 0 to {presets.MAX_SPREAD:g} (a relative "
                           f"spread of the pixel's parameters), got {spread!r}")
    return spread


def check_channels(channels, preset, plan):
    """channels as an int in 0..MAX_CHANNELS for an LED preset without chip faults, else
    SimSpecError."""
    text = str(channels).strip()
    if not text.isdigit() or not 0 <= int(text) <= MAX_CHANNELS:
        raise SimSpecError(f"channels must be a whole number of channel cards, 1 to "
                           f"{MAX_CHANNELS} (0 or none: the one-channel board), got {channels!r}")
    count = int(text)
    if count and presets.PRESETS[preset]["kind"] != "led":
        raise SimSpecError(f"channels: channel cards drive LED pixels; the {preset} preset is "
                           f"one film under the laser (leave channels out)")
    for chip_fault in plan.missing + plan.stuck:
        _check_chip_fault(chip_fault, count)
    for card, _clock, _at_s in plan.card_fails:
        if card >= count:
            raise SimSpecError(f"faults: card_fail={card}@... needs a board of at least "
                               f"{card + 1} channel cards (channels={card + 1} or more)")
    return count


def _check_chip_fault(chip_fault, count):
    """A chip fault names a chip the board has: a card's chip with its card (CHIP@CARD) on a
    board of `count` channel cards, none on the one-channel board."""
    chip, _, card = chip_fault.partition("@")
    if card and not count:
        raise SimSpecError(f"faults: {chip_fault} is a chip of a channel card: it needs a "
                           f"board of cards (channels={int(card) + 1} or more)")
    if card and int(card) >= count:
        raise SimSpecError(f"faults: {chip_fault} needs a board of at least {int(card) + 1} "
                           f"channel cards (channels={int(card) + 1} or more)")
    if count and not card and chip in CARD_CHIP_NAMES:
        raise SimSpecError(f"faults: every channel card has its {chip}: name the card, "
                           f"{chip}@K")


def make_sim_spec(preset, accel=1.0, seed=0, faults="", source="mpy", heap=None, spread=0.0,
                  channels=0):
    """A SimSpec from separate values (the CLI's options); SimSpecError on bad input."""
    try:
        plan = faults if isinstance(faults, FaultPlan) else parse_faults(faults)
    except FaultSpecError as exc:
        raise SimSpecError(f"faults: {exc}") from None
    preset = check_preset(preset)
    return SimSpec(preset, check_accel(accel), check_seed(seed), plan,
                   check_source(source), None if heap is None else check_heap(heap),
                   check_spread(spread), check_channels(channels, preset, plan))


def parse_sim_spec(text):
    """Parse `sim:PRESET[?accel=K&seed=N&faults=F&source=S&heap=H&spread=S&channels=C]`;
    values may be percent-encoded.

    '+' is kept as a plus (it separates a cut's start and duration), not read as a space.
    Raises SimSpecError naming what is wrong.
    """
    if not is_sim_spec(text):
        raise SimSpecError(f"a sim rig spec starts with {PREFIX!r}, got {text!r}")
    preset, qmark, query = text[len(PREFIX):].partition("?")
    values = {}
    if qmark:
        if not query:
            raise SimSpecError(f"{text!r}: nothing after '?'; parameters are {_KEY_LIST}")
        for param in query.split("&"):
            key, eq, value = param.partition("=")
            if key not in _KEYS:
                raise SimSpecError(
                    f"{text!r}: unknown parameter {key!r}; parameters are {_KEY_LIST}")
            if not eq:
                raise SimSpecError(f"{text!r}: parameter {key!r} needs =VALUE")
            if key in values:
                raise SimSpecError(f"{text!r}: parameter {key!r} given twice")
            try:
                values[key] = unquote(value, errors="strict")
            except UnicodeDecodeError:
                raise SimSpecError(
                    f"{text!r}: the value of {key!r} is not UTF-8 once percent-decoded") from None
    try:
        return make_sim_spec(preset, values.get("accel", 1.0), values.get("seed", 0),
                             values.get("faults", ""), values.get("source", "mpy"),
                             values.get("heap"), values.get("spread", 0.0),
                             values.get("channels", 0))
    except SimSpecError as exc:
        raise SimSpecError(f"{text!r}: {exc}") from None
