"""Fault grammar (link faults, chip and card faults) and the byte-level fault injector of the
simulated rig (CPython)."""

import math
import random
import re
from dataclasses import dataclass, field

from hil_sim.chips import CARD_CHIP_NAMES, CHIP_NAMES

UP = "up"  # device -> host
DOWN = "down"  # host -> device
DIRECTIONS = (UP, DOWN)

_RATE_KEYS = ("corrupt", "drop")
_CHIP_KEYS = ("missing", "stuck")
_KEYS = ("corrupt", "drop", "delay", "cut", "reset", "seed", "card_fail") + _CHIP_KEYS
MAX_CARD = 7  # channel cards are 0..7 (lumenfw/board_config.py MAX_CHANNELS)
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(_NUMBER + r"\Z")
_DURATION_RE = re.compile(r"(" + _NUMBER + r")(us|ms|s|min|h)\Z")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
_MAX_SEED = 2**64 - 1
LIT = "lit:"  # a fault time counted in lit time (FaultPlan)


class FaultSpecError(ValueError):
    """A fault specification that does not follow the grammar; the message says what to fix."""


@dataclass(frozen=True)
class FaultPlan:
    """What to do to the link. Rates are per byte (0..1); delays are wall seconds per chunk;
    cuts are (at device s, duration wall s); resets are at device s.  lit_cuts and
    lit_resets are the same at lit time: device time while the rig's output or laser is on
    (`lit:` in the grammar), which a run reaches at the same point whatever the rig idled
    before it. missing and stuck are chips of the board (hil_sim.chips.CHIP_NAMES, sorted;
    "ina226@2" for card 2's on a board of channel cards): a missing chip does not ACK its
    address, a stuck one ACKs and reads 0xFF throughout.
    card_fails are (channel, clock, at s), clock "" (device time) or "lit:" (the lit time of
    that card's pixel): from then on the card's DAC, INA226 and ADS1115 stop answering."""

    corrupt: dict = field(default_factory=lambda: {UP: 0.0, DOWN: 0.0})
    drop: dict = field(default_factory=lambda: {UP: 0.0, DOWN: 0.0})
    delay_s: dict = field(default_factory=lambda: {UP: 0.0, DOWN: 0.0})
    cuts: tuple = ()
    resets: tuple = ()
    seed: int = 0
    lit_cuts: tuple = ()
    lit_resets: tuple = ()
    missing: tuple = ()
    stuck: tuple = ()
    card_fails: tuple = ()

    def is_empty(self):
        """True when the plan changes nothing, on the link or on the board."""
        return not (any(self.corrupt.values()) or any(self.drop.values())
                    or any(self.delay_s.values()) or self.cuts or self.resets
                    or self.lit_cuts or self.lit_resets or self.missing or self.stuck
                    or self.card_fails)

    def chip_text(self):
        """The chip faults alone in the grammar ("missing=sht31,stuck=ina226"; "" for
        none): what the launcher hands the simulated board."""
        return ",".join([f"missing={chip}" for chip in self.missing]
                        + [f"stuck={chip}" for chip in self.stuck])

    def __str__(self):
        """The plan in the grammar, canonical: parse_faults(str(plan)) == plan."""
        items = []
        for key, rates in (("corrupt", self.corrupt), ("drop", self.drop),
                           ("delay", self.delay_s)):
            fmt = _format_duration if key == "delay" else repr
            if rates[UP] == rates[DOWN]:
                if rates[UP]:
                    items.append(f"{key}={fmt(rates[UP])}")
                continue
            for direction in DIRECTIONS:
                if rates[direction]:
                    items.append(f"{direction}:{key}={fmt(rates[direction])}")
        for clock, cuts, resets in (("", self.cuts, self.resets),
                                    (LIT, self.lit_cuts, self.lit_resets)):
            for at_s, duration_s in cuts:
                items.append(f"cut={clock}{_format_duration(at_s)}+"
                             f"{_format_duration(duration_s)}")
            for at_s in resets:
                items.append(f"reset={clock}{_format_duration(at_s)}")
        if self.seed:
            items.append(f"seed={self.seed}")
        if self.missing or self.stuck:
            items.append(self.chip_text())
        items.extend(f"card_fail={channel}@{clock}{_format_duration(at_s)}"
                     for channel, clock, at_s in self.card_fails)
        return ",".join(items)

    def card_text(self):
        """The card failures for the simulated board ("3@lit:120000000,1@5000000": channel
        and microseconds; "" for none)."""
        return ",".join(f"{channel}@{clock}{round(at_s * 1e6)}"
                        for channel, clock, at_s in self.card_fails)


def _format_duration(t_s):
    return repr(float(t_s)) + "s"


def _parse_number(text, what):
    if not _NUMBER_RE.match(text):
        raise FaultSpecError(f"{what}: {text!r} is not a plain decimal number")
    value = float(text)
    if not math.isfinite(value):
        raise FaultSpecError(f"{what}: {text!r} is too large")
    return value


def parse_duration_s(text, what):
    """Seconds from '<number><unit>' with unit us, ms, s, min or h (the unit is required)."""
    m = _DURATION_RE.match(text)
    if not m:
        raise FaultSpecError(
            f"{what}: {text!r} is not a duration; write a number and a unit"
            " (us, ms, s, min, h), e.g. 20ms")
    value = float(m.group(1)) * _UNIT_S[m.group(2)]
    if not math.isfinite(value):
        raise FaultSpecError(f"{what}: {text!r} is too large")
    return value


def parse_faults(text):
    """Parse the fault grammar (see hil_sim/README.md) into a FaultPlan.

    Raises FaultSpecError naming the offending item. An empty text is the empty plan.
    """
    if not isinstance(text, str):
        raise FaultSpecError(f"fault specification must be text, got {type(text).__name__}")
    rates = {"corrupt": {}, "drop": {}, "delay": {}}
    cuts = {"": [], LIT: []}
    resets = {"": [], LIT: []}
    chips = {}  # chip -> "missing" or "stuck"
    card_fails = {}  # channel -> (clock, at s)
    seed = None
    if text == "":
        return FaultPlan()
    for index, item in enumerate(text.split(",")):
        where = f"fault item {index + 1} {item!r}"
        if item == "":
            raise FaultSpecError(f"{where}: empty item (stray comma?)")
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultSpecError(f"{where}: expected KEY=VALUE, keys are {', '.join(_KEYS)}")
        direction = None
        if ":" in key:
            direction, _, key = key.partition(":")
            if direction not in DIRECTIONS:
                raise FaultSpecError(
                    f"{where}: direction must be up: or down:, not {direction!r}:")
        if key not in _KEYS:
            raise FaultSpecError(f"{where}: unknown key {key!r}, keys are {', '.join(_KEYS)}")
        if direction is not None and key in _CHIP_KEYS:
            raise FaultSpecError(
                f"{where}: {key} is a fault of a chip on the board and takes no up:/down: "
                "prefix")
        if direction is not None and key not in rates:
            raise FaultSpecError(
                f"{where}: {key} acts on both directions and takes no up:/down: prefix")
        if key in _RATE_KEYS:
            p = _parse_number(value, where)
            if not 0.0 <= p <= 1.0:
                raise FaultSpecError(f"{where}: {key} is a probability per byte, 0 to 1")
            _set_rate(rates[key], direction, p, where)
        elif key == "delay":
            _set_rate(rates[key], direction, parse_duration_s(value, where), where)
        elif key == "cut":
            at, plus, duration = value.partition("+")
            if not plus:
                raise FaultSpecError(f"{where}: cut needs AT+DURATION, e.g. cut=300s+5s")
            duration_s = parse_duration_s(duration, where)
            if duration_s <= 0:
                raise FaultSpecError(f"{where}: cut duration must be above zero")
            clock, at = _split_clock(at)
            cuts[clock].append((parse_duration_s(at, where), duration_s))
        elif key == "reset":
            clock, at = _split_clock(value)
            resets[clock].append(parse_duration_s(at, where))
        elif key == "card_fail":
            channel, at_sign, at = value.partition("@")
            if not at_sign or not channel.isdigit() or not channel.isascii() \
                    or int(channel) > MAX_CARD:
                raise FaultSpecError(f"{where}: card_fail needs CARD@AT, a card 0 to "
                                     f"{MAX_CARD}, e.g. card_fail=3@lit:120s")
            if int(channel) in card_fails:
                raise FaultSpecError(f"{where}: card {channel} fails once")
            clock, at = _split_clock(at)
            card_fails[int(channel)] = (clock, parse_duration_s(at, where))
        elif key in _CHIP_KEYS:
            value = _chip_of(key, value, where)
            if value in chips:
                raise FaultSpecError(f"{where}: chip {value} already {chips[value]}")
            chips[value] = key
        else:
            if seed is not None:
                raise FaultSpecError(f"{where}: seed given twice")
            if not value.isdigit() or not value.isascii() or int(value) > _MAX_SEED:
                raise FaultSpecError(f"{where}: seed must be an integer 0 to 2**64-1")
            seed = int(value)
    return FaultPlan(
        corrupt={d: rates["corrupt"].get(d, 0.0) for d in DIRECTIONS},
        drop={d: rates["drop"].get(d, 0.0) for d in DIRECTIONS},
        delay_s={d: rates["delay"].get(d, 0.0) for d in DIRECTIONS},
        cuts=tuple(sorted(cuts[""])), resets=tuple(sorted(resets[""])), seed=seed or 0,
        lit_cuts=tuple(sorted(cuts[LIT])), lit_resets=tuple(sorted(resets[LIT])),
        missing=tuple(sorted(c for c, k in chips.items() if k == "missing")),
        stuck=tuple(sorted(c for c, k in chips.items() if k == "stuck")),
        card_fails=tuple((channel, clock, at_s)
                         for channel, (clock, at_s) in sorted(card_fails.items())))


def _chip_of(key, value, where):
    """A chip fault's chip, "ina226" or on a channel card "ina226@2" (canonical)."""
    chip, at_sign, card = value.partition("@")
    if chip not in CHIP_NAMES:
        raise FaultSpecError(f"{where}: {key} takes a chip, one of {', '.join(CHIP_NAMES)} "
                             f"(a card's: CHIP@CARD); got {value!r}")
    if not at_sign:
        return chip
    if chip not in CARD_CHIP_NAMES:
        raise FaultSpecError(f"{where}: {chip} is the rig's, on no channel card: {key}={chip}")
    if not card.isdigit() or not card.isascii() or int(card) > MAX_CARD:
        raise FaultSpecError(f"{where}: CHIP@CARD names a card 0 to {MAX_CARD}, e.g. "
                             f"{key}={chip}@2")
    return f"{chip}@{int(card)}"


def _split_clock(at):
    """("lit:", rest) for a time in lit time, ("", at) for one in device time."""
    if at.startswith(LIT):
        return LIT, at[len(LIT):]
    return "", at


def _set_rate(by_direction, direction, value, where):
    targets = DIRECTIONS if direction is None else (direction,)
    for d in targets:
        if d in by_direction:
            raise FaultSpecError(f"{where}: set twice for direction {d}")
        by_direction[d] = value


class _ByteHits:
    """Which positions of one byte stream a per-byte probability p hits.

    Gaps between hits are drawn from the geometric distribution, so every byte is an
    independent Bernoulli(p) trial whatever the chunking, at a cost per hit, not per byte.
    """

    _MAX_GAP = 2**62

    def __init__(self, p, rng):
        self.p = p
        self.rng = rng
        self._skip = self._draw()

    def _draw(self):
        if self.p >= 1.0:
            return 0
        if self.p <= 0.0:
            return self._MAX_GAP
        # Inverse-CDF sampling of the geometric distribution (number of misses before a hit).
        gap = math.log1p(-self.rng.random()) / math.log1p(-self.p)
        return int(gap) if gap < self._MAX_GAP else self._MAX_GAP

    def hits(self, n):
        """Indices in range(n) hit in the next n bytes of the stream."""
        out = []
        i = self._skip
        while i < n:
            out.append(i)
            i += 1 + self._draw()
        self._skip = i - n
        return out


def stat_names():
    """Keys of FaultInjector.stats, in a stable order."""
    names = []
    for direction in DIRECTIONS:
        names += [direction + "_" + s for s in (
            "bytes_in", "bytes_out", "corrupted_bytes", "dropped_bytes", "delayed_chunks",
            "delayed_bytes", "cut_bytes")]
    return names + ["cuts", "resets"]


class FaultInjector:
    """Applies a FaultPlan to the bytes of each direction and keeps the schedule of cuts
    and resets. Not thread-safe: one relay thread calls it; `stats` may be read anywhere."""

    def __init__(self, plan):
        self.plan = plan
        self.stats = dict.fromkeys(stat_names(), 0)
        self._drop = {}
        self._corrupt = {}
        for direction in DIRECTIONS:
            # Independent, seeded streams per direction and fault kind.
            self._drop[direction] = _ByteHits(
                plan.drop[direction], random.Random(f"{plan.seed}:drop:{direction}"))
            self._corrupt[direction] = _ByteHits(
                plan.corrupt[direction], random.Random(f"{plan.seed}:corrupt:{direction}"))
        self._bit_rng = random.Random(f"{plan.seed}:bits")
        self._pending = {"": (list(plan.cuts), list(plan.resets)),
                         LIT: (list(plan.lit_cuts), list(plan.lit_resets))}
        self._cut_until_wall_s = None

    def transform(self, direction, data):
        """The bytes that survive drop and corrupt (in that order) of one chunk.  The chunk's
        bytes_in is counted last: whoever reads the counters from another thread and sees a
        chunk in sees its drops and corruptions too."""
        stats = self.stats
        dropped = self._drop[direction].hits(len(data))
        if dropped:
            parts = []
            start = 0
            for i in dropped:
                parts.append(data[start:i])
                start = i + 1
            parts.append(data[start:])
            kept = b"".join(parts)
            stats[direction + "_dropped_bytes"] += len(dropped)
        else:
            kept = data
        flips = self._corrupt[direction].hits(len(kept))
        if flips:
            kept = bytearray(kept)
            for i in flips:
                kept[i] ^= 1 << self._bit_rng.randrange(8)
            stats[direction + "_corrupted_bytes"] += len(flips)
        stats[direction + "_bytes_in"] += len(data)
        return bytes(kept)

    def delay_s(self, direction):
        """Wall seconds every chunk of this direction is held back."""
        return self.plan.delay_s[direction]

    def count_delayed(self, direction, n):
        self.stats[direction + "_delayed_chunks"] += 1
        self.stats[direction + "_delayed_bytes"] += n

    def count_out(self, direction, n):
        self.stats[direction + "_bytes_out"] += n

    def count_cut(self, direction, n):
        self.stats[direction + "_cut_bytes"] += n

    def cut_active(self, wall_s):
        """True while a cut is in force at monotonic wall time wall_s."""
        return self._cut_until_wall_s is not None and wall_s < self._cut_until_wall_s

    def cut_end_wall_s(self):
        """Monotonic wall time the current cut ends, or None."""
        return self._cut_until_wall_s

    def advance(self, device_s, wall_s, clock=""):
        """Start the cuts due by device_s (lit time with clock=LIT); True when a reset is due
        (several due at once coalesce into one). A cut that starts while another runs
        extends it to the later end.
        """
        cuts, resets = self._pending[clock]
        while cuts and cuts[0][0] <= device_s:
            _, duration_s = cuts.pop(0)
            self.cut_now(wall_s, duration_s)
        due = False
        while resets and resets[0] <= device_s:
            resets.pop(0)
            due = True
        return due

    def cut_now(self, wall_s, duration_s):
        """Cut the link from wall_s for duration_s of wall time (a scheduled cut, or one a
        test starts at a moment of its choosing); overlapping cuts end at the later end."""
        end = wall_s + duration_s
        if self.cut_active(wall_s):
            end = max(self._cut_until_wall_s, end)
        self._cut_until_wall_s = end
        self.stats["cuts"] += 1

    def count_reset(self):
        self.stats["resets"] += 1
