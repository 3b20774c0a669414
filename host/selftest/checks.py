"""Every self-test check in words: its name, unit, how its value and limit read, the board
parts it vouches for, and what to do when it fails, keyed by the schema's check id."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lumenfw import board_config
from protocol import schema

# The board's parts, as a run kind names those it needs (host.runs.kinds.RunKind.parts).
INA226 = "ina226"
DAC = "dac"
ADS1115 = "ads1115"
PHOTODIODE = "photodiode"
SHUTTER = "shutter"
SHT31 = "sht31"
INTERLOCK = "interlock"
MUX = "mux"  # a board of channel cards: the TCA9548A every card is reached through
CARD_IO = "card_io"  # a channel card's PCA9554: its relay, TIA gain and ALERT
# The rig's own parts: a failed check of one refuses runs on every channel.
RIG_PARTS = (SHT31, INTERLOCK, SHUTTER, MUX)
# What every run needs besides its kind's parts, where the board has them.
ANY_RUN_PARTS = (MUX, CARD_IO)

# What the I2C scan's bits stand for: (bit, part, chip, address).
BUS_CHIPS = (
    (schema.I2C_BIT_DAC, DAC, "MCP4725 DAC", board_config.ADDR_DAC),
    (schema.I2C_BIT_INA226, INA226, "INA226", board_config.ADDR_INA226),
    (schema.I2C_BIT_ADS1115, ADS1115, "ADS1115", board_config.ADDR_ADS1115),
    (schema.I2C_BIT_SHT31, SHT31, "SHT31", board_config.ADDR_SHT31),
    (schema.I2C_BIT_MUX, MUX, "TCA9548A mux", board_config.ADDR_MUX),
    (schema.I2C_BIT_CARD_IO, CARD_IO, "PCA9554 card expander", board_config.ADDR_CARD_IO),
)

RERUN = "then run `lumenrig selftest RIG` again"


def _hex(value: int) -> str:
    return "0x%04x" % (value & 0xFFFFFFFF)


def _chips(mask: int) -> str:
    names = ["%s 0x%02x" % (chip, address) for bit, _part, chip, address in BUS_CHIPS
             if mask & bit]
    return ", ".join(names) or "none"


def missing_parts(value: int, expected: int) -> tuple[str, ...]:
    """The parts whose chip the I2C scan expected and did not find."""
    return tuple(part for bit, part, _chip, _address in BUS_CHIPS
                 if expected & bit and not value & bit)


def missing_chips(value: int, expected: int) -> str:
    """The chips the I2C scan expected and did not find, with their addresses."""
    return _chips(expected & ~value)


@dataclass(frozen=True)
class Check:
    """One check: key (a stable word for scripts), name in words, unit of value and limit,
    the parts it vouches for, advice when it fails; value(raw) and limit(low, high) as
    shown."""

    key: str
    name: str
    unit: str
    parts: tuple[str, ...]
    advice: str
    value: Callable[[int], Any] = int
    limit: Callable[[int, int], str] = lambda low, high: "%d..%d" % (low, high)


def _within(low: int, high: int) -> str:
    return "within ±%d" % high if low == -high else "%d..%d" % (low, high)


def _dark_check(index: int) -> Check:
    tia, pga, num, den = board_config.PD_RANGES[index]
    ohm = board_config.TIA_FEEDBACK_OHM[tia]
    feedback = "%g MΩ" % (ohm / 1e6) if ohm >= 1e6 else "%g kΩ" % (ohm / 1e3)
    full_scale_na = 32768 * num / den / 1000
    return Check(
        "dark_range_%d" % index,
        "photodiode dark current, range %d (%s, %g nA full scale)" % (index, feedback,
                                                                      full_scale_na),
        "pA", (PHOTODIODE,),
        "the photodiode reads light (or a TIA offset) with everything off: close the "
        "enclosure and cover the photodiode's port; if only this range fails, check its "
        "feedback resistor (%s) and the ADS1115 gain for it; %s" % (feedback, RERUN),
        limit=_within)


CHECKS: dict[int, Check] = {
    schema.CHK_I2C_SCAN: Check(
        "i2c_scan", "I2C bus: every chip answers its address", "",
        (DAC, INA226, ADS1115, SHT31, MUX, CARD_IO),
        "a chip does not answer its address: check its solder joints and orientation, its "
        "3.3 V supply, its address pins (board_config.py) and the SDA/SCL pull-ups; " + RERUN,
        value=_chips, limit=lambda low, high: _chips(high)),
    schema.CHK_INA226_MANUFACTURER: Check(
        "ina226_manufacturer", "INA226 manufacturer id (register 0xFE)", "", (INA226,),
        "the chip at 0x%02x is not a TI part or reads a constant (0xffff: a stuck chip or "
        "bus): check the part fitted there, its A0/A1 pins to GND and its supply; no run "
        "starts without the DUT's voltage and current" % board_config.ADDR_INA226,
        value=_hex, limit=lambda low, high: "%s (TI)" % _hex(high)),
    schema.CHK_INA226_DIE: Check(
        "ina226_die", "INA226 die id (register 0xFF)", "", (INA226,),
        "the chip at 0x%02x is not an INA226 (an INA219, INA228 or INA260 has another die "
        "id) or reads a constant: fit an INA226" % board_config.ADDR_INA226,
        value=_hex, limit=lambda low, high: _hex(high)),
    schema.CHK_SHT31_STATUS: Check(
        "sht31_status", "SHT31 status register (CRC checked)", "", (SHT31,),
        "the SHT31 at 0x%02x does not answer, reports a command or checksum error, or its "
        "CRC does not match: check that it is fitted (ADDR to GND), its supply decoupling "
        "and the bus wiring (a CRC error that repeats is noise on SDA/SCL); runs go on "
        "without it, their ambient columns stay empty; %s" % (board_config.ADDR_SHT31, RERUN),
        value=_hex, limit=lambda low, high: "bits %s clear, CRC valid" % _hex(high)),
    schema.CHK_SHT31_SERIAL: Check(
        "sht31_serial", "SHT31 serial number (CRC checked)", "", (SHT31,),
        "the SHT31 at 0x%02x does not answer or its serial number fails its CRC: check the "
        "part and the bus wiring; runs go on without it, their ambient columns stay empty"
        % board_config.ADDR_SHT31,
        value=_hex, limit=lambda low, high: "CRC valid"),
    schema.CHK_DAC_READBACK: Check(
        "dac_readback", "MCP4725 DAC code read back after writing 0 V (output relay open)",
        "", (DAC,),
        "the DAC does not hold what was written: check the part at 0x%02x (A0 low) and its "
        "supply; no run starts without a known supply setpoint" % board_config.ADDR_DAC,
        limit=lambda low, high: "%d (0 V)" % high),
    schema.CHK_ADS1115_CONFIG: Check(
        "ads1115_config", "ADS1115 configuration register read-back", "", (ADS1115,),
        "the ADS1115 does not hold its configuration: check the part at 0x%02x (ADDR to "
        "GND) and its supply; no run starts without the photodiode"
        % board_config.ADDR_ADS1115,
        value=_hex, limit=lambda low, high: _hex(high)),
    schema.CHK_INTERLOCK: Check(
        "interlock", "interlock loop", "", (INTERLOCK,),
        "the interlock loop is open: close the enclosure (a broken wire reads open); the "
        "device switches nothing on while it is open",
        value=lambda v: "closed" if v else "open", limit=lambda low, high: "closed"),
    schema.CHK_SUPPLY_OFFSET: Check(
        "supply_offset", "supply current with the output relay open", "nA", (INA226,),
        "the INA226 reads current with the output relay open: check that the relay opens "
        "(a welded contact), the shunt's wiring to IN+ and IN-, and that nothing else feeds "
        "the DUT line; " + RERUN, limit=_within),
    schema.CHK_SHUTTER_OPEN: Check(
        "shutter_open", "shutter travel, opening", "ms", (SHUTTER,),
        "the shutter's closed switch did not release in time: check the shutter's driver "
        "and power, that nothing blocks the blade, and the switch's wiring; photostability "
        "runs need the shutter; " + RERUN, limit=lambda low, high: "≤ %d" % high),
    schema.CHK_SHUTTER_CLOSE: Check(
        "shutter_close", "shutter travel, closing", "ms", (SHUTTER,),
        "the shutter's closed switch was not made in time: check that the blade closes "
        "fully (return spring, obstruction) and the switch's adjustment and wiring; "
        "photostability runs need the shutter; " + RERUN,
        limit=lambda low, high: "≤ %d" % high),
}
for _index in range(len(board_config.PD_RANGES)):
    CHECKS[schema.CHK_DARK_RANGE + _index] = _dark_check(_index)

DETAILS = {
    schema.DETAIL_NO_ANSWER: "no answer on the I2C bus",
    schema.DETAIL_CRC: "the chip's CRC does not match its data",
    schema.DETAIL_TIMEOUT: "did not happen within the limit",
    schema.DETAIL_NOT_AT_START: "not in its starting position",
    schema.DETAIL_NOT_FITTED: "the board has no such part",
    schema.DETAIL_INTERLOCK_OPEN: "the interlock loop is open",
}


def check_for(check_id: int) -> Check:
    """The check with this id; one this host does not know is named by its number."""
    found = CHECKS.get(check_id)
    if found is not None:
        return found
    return Check("check_%d" % check_id, "check %d (unknown to this host)" % check_id, "", (),
                 "this host does not know the check: update the host to the firmware's "
                 "version")
