"""The generated tables of docs/hardware.md (wiring, photodiode ranges, board numbers), built
from firmware/lumenfw/board_config.py, the one source of the board's facts.

    python scripts/wiring_table.py                          print every table with its markers
    python scripts/wiring_table.py --write docs/hardware.md rewrite the tables in that file

Each table sits in the document between `<!-- NAME:begin -->` and `<!-- NAME:end -->`;
--write replaces only what lies between a pair and leaves the rest of the file as it is.
Building a table also checks the config against itself and against the Pico (a pin the board
does not bring out, two signals on one GPIO, I2C pins of the wrong block, a range whose pA per
code disagrees with its resistor and PGA, ...): such a config raises ValueError, saying what.
"""

import argparse
import math
import re
import sys
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _folder in (REPO, REPO / "firmware"):  # lumenfw lives in firmware/, protocol at the top
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from lumenfw import board_config  # noqa: E402
from lumenfw.board import dac_mv  # noqa: E402
from lumenfw.drivers.ads1115 import PGA_FULL_SCALE_UV, RATE_SPS, conversion_us  # noqa: E402
from lumenfw.selftest import TIA_SETTLE_US  # noqa: E402

CONFIG_PATH = REPO / "firmware" / "lumenfw" / "board_config.py"
BLOCKS = ("wiring", "ranges", "numbers")

# Raspberry Pi Pico header pin of each GPIO it brings out (Pico datasheet pinout); GP25 has no
# header pin, it drives the on-board LED.  GP23, GP24 and GP29 run the board itself.
PICO_HEADER_PIN = {0: 1, 1: 2, 2: 4, 3: 5, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11, 9: 12, 10: 14,
                   11: 15, 12: 16, 13: 17, 14: 19, 15: 20, 16: 21, 17: 22, 18: 24, 19: 25,
                   20: 26, 21: 27, 22: 29, 26: 31, 27: 32, 28: 34}
PICO_LED_GPIO = 25
PICO_GND_PINS = (3, 8, 13, 18, 23, 28, 33, 38)

# How the reference board uses each pin and address constant: (signal, what it goes to).
# Presentation only; the numbers and the notes come from board_config.  A constant missing
# here still gets its row, named after itself.
ROLES = {
    "PIN_SDA": ("I2C data", "SDA of the INA226, SHT31, MCP4725 and the level translator's "
                            "3.3 V side"),
    "PIN_SCL": ("I2C clock", "SCL of the same chips"),
    "PIN_RELAY": ("Output relay", "relay coil driver (2N7002) and the soft-start clamp"),
    "PIN_LASER": ("Laser enable", "laser module's enable input (its power comes through the "
                                  "interlock loop)"),
    "PIN_SHUTTER": ("Shutter drive", "shutter solenoid driver (logic-level MOSFET)"),
    "PIN_TIA_GAIN": ("TIA gain", "gain reed relay coil driver (2N7002)"),
    "PIN_STATUS_LED": ("Status LED", "the Pico's on-board LED (no header pin)"),
    "PIN_SHUTTER_CLOSED": ("Shutter closed", "closed-position microswitch, to 3V3"),
    "PIN_INTERLOCK": ("Interlock sense", "optocoupler on the far end of the interlock loop, "
                                         "to 3V3"),
    "PIN_INA_ALERT": ("Compliance alert", "the INA226's ALERT (open drain, active low), "
                                          "10 kohm pull-up to 3V3"),
    "PIN_SAFE_BOOT": ("Safe boot", "removable jumper to GND"),
    "ADDR_DAC": ("Supply setpoint", "MCP4725 12-bit DAC"),
    "ADDR_INA226": ("DUT voltage and current", "INA226 with the shunt"),
    "ADDR_ADS1115": ("Photodiode (TIA output)", "ADS1115 16-bit ADC, behind the level "
                                                "translator"),
    "ADDR_SHT31": ("Ambient", "SHT31 temperature and humidity"),
    "ADDR_MUX": ("Channel cards", "TCA9548A I2C multiplexer (rigs with channel cards only)"),
    "ADDR_CARD_IO": ("Card relay, gain, alert", "PCA9554 I/O expander on each card, behind "
                                                 "the multiplexer"),
    "PIN_CARD_INT": ("Card inputs changed", "the cards' PCA9554 INT outputs (open drain), "
                                            "wired together, 10 kohm pull-up to 3V3"),
}

# INA226 configuration fields (datasheet 7.1.1): averages and conversion times in us.
INA226_AVERAGES = (1, 4, 16, 64, 128, 256, 512, 1024)
INA226_CONVERSION_US = (140, 204, 332, 588, 1100, 2116, 4156, 8244)
INA226_SHUNT_FULL_SCALE_UV = 81_920  # shunt voltage register full scale (datasheet 7.1.2)
SI_PREFIXES = ((1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"),
               (1e-12, "p"))


def inline_comments(path=CONFIG_PATH):
    """NAME -> the comment on the line that assigns NAME in board_config.py (if any)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Z][A-Z0-9_]*)\s*=[^#]*#\s*(.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _names(config, prefix):
    return sorted((name for name in dir(config) if name.startswith(prefix)),
                  key=lambda name: getattr(config, name))


def _cell(text):
    return str(text).replace("|", "\\|")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _quantity(value, unit, digits=6):
    """value (in the base unit) with an SI prefix: 4.096e-3, "A" -> "4.096 mA"."""
    if value == 0:
        return "0 " + unit
    factor, prefix = next((p for p in SI_PREFIXES if abs(value) >= p[0] * 0.9999999),
                          SI_PREFIXES[-1])
    return "%.*g %s%s" % (digits, value / factor, prefix, unit)


def _ohm(value):
    return _quantity(value, "ohm")


def _pico_pin(gpio, name):
    if gpio == PICO_LED_GPIO:
        return "- (on-board LED)"
    if gpio not in PICO_HEADER_PIN:
        raise ValueError("%s = %d: the Pico brings out no such GPIO (header GPIOs: %s; GP25 is "
                         "its LED)" % (name, gpio, ", ".join(map(str, sorted(PICO_HEADER_PIN)))))
    return str(PICO_HEADER_PIN[gpio])


def _check_i2c_pins(config):
    """RP2040 function map: GPIO n is SDA (n even) or SCL (n odd) of block (n // 2) % 2."""
    for name, want_even in (("PIN_SDA", True), ("PIN_SCL", False)):
        gpio = getattr(config, name)
        if (gpio % 2 == 0) != want_even or (gpio // 2) % 2 != config.I2C_ID:
            raise ValueError("%s = %d is not %s of I2C%d on the RP2040" % (
                name, gpio, "SDA" if want_even else "SCL", config.I2C_ID))


def wiring_table(config=board_config, comments=None):
    """One row per PIN_* and ADDR_* constant: signal, Pico pin, GPIO, what it goes to, I2C
    address, the constant, and the config's own note (plus what follows from other facts)."""
    comments = inline_comments() if comments is None else comments
    pins = _names(config, "PIN_")
    used = {}
    for name in pins:
        gpio = getattr(config, name)
        if gpio in used:
            raise ValueError("%s and %s are both GPIO %d" % (used[gpio], name, gpio))
        used[gpio] = name
    _check_i2c_pins(config)
    bus = "I2C%d, %g kHz" % (config.I2C_ID, config.I2C_FREQ_HZ / 1000)
    bus_pins = "%s, %s" % (_pico_pin(config.PIN_SDA, "PIN_SDA"),
                           _pico_pin(config.PIN_SCL, "PIN_SCL"))
    bus_gpios = "GP%d, GP%d" % (config.PIN_SDA, config.PIN_SCL)
    extra = {
        "PIN_SDA": bus + ", SDA",
        "PIN_SCL": bus + ", SCL",
        "PIN_TIA_GAIN": ", ".join("%d = %s" % (level, _ohm(ohm))
                                  for level, ohm in enumerate(config.TIA_FEEDBACK_OHM)),
        "PIN_SHUTTER": "open level %d (`SHUTTER_OPEN_LEVEL`)" % config.SHUTTER_OPEN_LEVEL,
    }
    for name in pins:  # a jumper to ground fits across neighbouring header pins
        neighbours = [p for p in PICO_GND_PINS
                      if abs(p - PICO_HEADER_PIN.get(getattr(config, name), -9)) == 1]
        if "jumper to GND" in ROLES.get(name, ("", ""))[1] and neighbours:
            extra[name] = "GND is header pin %d, beside it" % neighbours[0]
    rows = []
    for name in pins:
        gpio = getattr(config, name)
        signal, goes_to = ROLES.get(name, (name[4:].lower().replace("_", " "), "-"))
        note = "; ".join(n for n in (comments.get(name), extra.get(name)) if n) or "-"
        rows.append((signal, _pico_pin(gpio, name), "GP%d" % gpio, goes_to, "-",
                     "`%s`" % name, note))
    addresses = {}
    for name in _names(config, "ADDR_"):
        address = getattr(config, name)
        if not 0x08 <= address <= 0x77:
            raise ValueError("%s = 0x%02x is outside the 7-bit I2C addresses 0x08..0x77"
                             % (name, address))
        if address in addresses:
            raise ValueError("%s and %s are both 0x%02x" % (addresses[address], name, address))
        addresses[address] = name
        signal, goes_to = ROLES.get(name, (name[5:].lower().replace("_", " "), "-"))
        rows.append((signal, bus_pins, bus_gpios, goes_to, "0x%02x" % address, "`%s`" % name,
                     comments.get(name, "-")))
    return _table(("Signal", "Pico pin", "GPIO", "Goes to", "I2C address", "board_config",
                   "Notes"), rows)


def range_rows(config=board_config):
    """(index, feedback ohm, PGA full scale uV, pA per code as a Fraction) of every range,
    each checked: pA per code = PGA LSB / R_feedback."""
    rows = []
    for index, (tia, pga, num, den) in enumerate(config.PD_RANGES):
        ohm = config.TIA_FEEDBACK_OHM[tia]
        fs_uv = PGA_FULL_SCALE_UV[pga]
        pa_per_code = Fraction(num, den)
        if Fraction(fs_uv * 10**6, 32768 * ohm) != pa_per_code:
            raise ValueError("PD_RANGES[%d]: %d/%d pA per code, but the PGA's +-%g V over "
                             "%s gives %s" % (index, num, den, fs_uv / 1e6, _ohm(ohm),
                                              Fraction(fs_uv * 10**6, 32768 * ohm)))
        rows.append((index, ohm, fs_uv, pa_per_code))
    top_uv = max(row[2] for row in rows)
    if config.TIA_RAIL_MV * 1000 <= top_uv:
        raise ValueError("TIA_RAIL_MV = %d: the TIA clips at or below the ADC's +-%g V, so a "
                         "saturated reading would not reach PD_CLIP_CODE"
                         % (config.TIA_RAIL_MV, top_uv / 1e6))
    return rows


def ranges_table(config=board_config):
    """The photodiode ranges: feedback, PGA, resolution, full scale, where auto-ranging
    leaves each range, and the self-test's dark limit for it."""
    rows = []
    entries = range_rows(config)
    last = len(entries) - 1
    for index, ohm, fs_uv, pa_per_code in entries:
        up = "-" if index == last else _quantity(
            float(config.PD_UP_CODE * pa_per_code) * 1e-12, "A", 4)
        down = "-" if index == 0 else _quantity(
            float(config.PD_DOWN_CODE * pa_per_code) * 1e-12, "A", 4)
        dark_pa = config.SELFTEST_DARK_MAX_PA + math.ceil(2 * pa_per_code)
        rows.append((index, _ohm(ohm), "+-%g V" % (fs_uv / 1e6),
                     "%g pA" % float(pa_per_code),
                     _quantity(float(32768 * pa_per_code) * 1e-12, "A"), up, down,
                     "+-%d pA" % dark_pa))
    return _table(("Range", "TIA feedback", "ADS1115 PGA", "Per code", "Full scale",
                   "Steps up above", "Steps down below", "Self-test dark limit"), rows)


def _ina226_period_us(config_word):
    averages = INA226_AVERAGES[(config_word >> 9) & 0x7]
    bus_us = INA226_CONVERSION_US[(config_word >> 6) & 0x7]
    shunt_us = INA226_CONVERSION_US[(config_word >> 3) & 0x7]
    mode = config_word & 0x7
    return averages * ((bus_us if mode & 2 else 0) + (shunt_us if mode & 1 else 0))


def numbers_table(config=board_config):
    """The board's numbers that the guide's text leans on, each with where it comes from;
    the INA226 and DAC figures are checked against each other."""
    shunt_ohm = config.SHUNT_MOHM / 1000
    ina_full_scale_na = INA226_SHUNT_FULL_SCALE_UV * 1_000_000 // config.SHUNT_MOHM
    if config.INA226_CAL * config.INA226_CURRENT_LSB_NA * config.SHUNT_MOHM != 5_120_000_000:
        raise ValueError("INA226_CAL = %d does not match INA226_CURRENT_LSB_NA and SHUNT_MOHM "
                         "(CAL = 0.00512 / (current LSB * R_shunt))" % config.INA226_CAL)
    period_us = _ina226_period_us(config.INA226_CONFIG)
    if period_us != config.INA226_PERIOD_US:
        raise ValueError("INA226_PERIOD_US = %d, but INA226_CONFIG averages over %d us"
                         % (config.INA226_PERIOD_US, period_us))
    if config.MAX_COMPLIANCE_NA >= ina_full_scale_na:
        raise ValueError("MAX_COMPLIANCE_NA = %d is not below the INA226's %d nA full scale"
                         % (config.MAX_COMPLIANCE_NA, ina_full_scale_na))
    top_code = (1 << config.DAC_BITS) - 1
    if dac_mv(top_code, config) != config.MAX_SETPOINT_MV:
        raise ValueError("MAX_SETPOINT_MV = %d, but DAC code %d gives %d mV"
                         % (config.MAX_SETPOINT_MV, top_code, dac_mv(top_code, config)))
    rate_sps = RATE_SPS[config.ADS_PD_RATE_INDEX]
    rows = (
        ("Supply full scale at the DUT (DAC code %d)" % (1 << config.DAC_BITS),
         _quantity(config.DAC_FULL_SCALE_MV / 1000, "V"), "`DAC_FULL_SCALE_MV`"),
        ("Highest setpoint (DAC code %d)" % top_code,
         _quantity(config.MAX_SETPOINT_MV / 1000, "V"), "`MAX_SETPOINT_MV`"),
        ("One DAC step at the DUT", _quantity(
            config.DAC_FULL_SCALE_MV / 1000 / (1 << config.DAC_BITS), "V", 4),
         "`DAC_FULL_SCALE_MV` / 2^`DAC_BITS`"),
        ("Shunt", _ohm(shunt_ohm), "`SHUNT_MOHM`"),
        ("INA226 current full scale (81.92 mV across the shunt)",
         _quantity(ina_full_scale_na * 1e-9, "A"), "`SHUNT_MOHM`"),
        ("INA226 current step", _quantity(config.INA226_CURRENT_LSB_NA * 1e-9, "A"),
         "`INA226_CURRENT_LSB_NA`, `INA226_CAL` = %d" % config.INA226_CAL),
        ("One averaged INA226 result", _quantity(config.INA226_PERIOD_US * 1e-6, "s"),
         "`INA226_PERIOD_US` (`INA226_CONFIG`)"),
        ("Highest compliance a run may ask", _quantity(config.MAX_COMPLIANCE_NA * 1e-9, "A"),
         "`MAX_COMPLIANCE_NA`"),
        ("Shunt drop at that compliance", _quantity(
            config.MAX_COMPLIANCE_NA * 1e-9 * shunt_ohm, "V"), "`MAX_COMPLIANCE_NA` x shunt"),
        ("A wait ends after the interlock opens or ALERT asserts, within",
         _quantity(config.SAFETY_SLICE_MS * 1e-3, "s"), "`SAFETY_SLICE_MS`"),
        ("Setpoint climb: largest step, hold per step",
         "%s, %s" % (_quantity(config.CLIMB_MAX_STEP_MV / 1000, "V"),
                     _quantity(config.CLIMB_HOLD_US * 1e-6, "s")),
         "`CLIMB_MAX_STEP_MV`, `CLIMB_HOLD_US`"),
        ("Setpoint climb: steepest DUT it is sized for, e-fold current per",
         _quantity(config.CLIMB_MV_PER_NEPER / 1000, "V"), "`CLIMB_MV_PER_NEPER`"),
        ("Watchdog (a hung loop resets the board)", _quantity(config.WATCHDOG_MS * 1e-3, "s"),
         "`WATCHDOG_MS`"),
        ("Shutter move confirmed by its switch within",
         _quantity(config.SHUTTER_TIMEOUT_MS * 1e-3, "s"), "`SHUTTER_TIMEOUT_MS`"),
        ("TIA output clips at", _quantity(config.TIA_RAIL_MV / 1000, "V"), "`TIA_RAIL_MV`"),
        ("ADS1115 rate and one conversion", "%d SPS, %s" % (rate_sps, _quantity(
            conversion_us(config.ADS_PD_RATE_INDEX) * 1e-6, "s", 4)), "`ADS_PD_RATE_INDEX`"),
        ("Self-test wait after a range change", _quantity(TIA_SETTLE_US * 1e-6, "s"),
         "`TIA_SETTLE_US` (lumenfw/selftest.py)"),
        ("Self-test: INA226 reading with the relay open, at most",
         "+-" + _quantity(config.SELFTEST_CURRENT_OFFSET_NA * 1e-9, "A"),
         "`SELFTEST_CURRENT_OFFSET_NA`"),
        ("Shortest sample period", _quantity(config.MIN_SAMPLE_PERIOD_MS * 1e-3, "s"),
         "`MIN_SAMPLE_PERIOD_MS`"),
        ("Most conversions averaged per sample", str(config.MAX_OVERSAMPLE),
         "`MAX_OVERSAMPLE`"),
        ("I2C clock", _quantity(config.I2C_FREQ_HZ, "Hz"), "`I2C_FREQ_HZ`"),
    )
    return _table(("Quantity", "Value", "From"), rows)


def tables(config=board_config, comments=None):
    """Block name -> its generated Markdown table."""
    return {"wiring": wiring_table(config, comments), "ranges": ranges_table(config),
            "numbers": numbers_table(config)}


def _pattern(name):
    return re.compile(r"(<!-- %s:begin -->\n)(.*?)(<!-- %s:end -->)" % (name, name), re.S)


def block_text(table):
    """What stands between a block's markers: the table with a blank line either side."""
    return "\n" + table + "\n\n"


def read_block(text, name):
    """The text between NAME's markers in a document, or None without them."""
    match = _pattern(name).search(text)
    return None if match is None else match.group(2)


def rewrite(text, generated):
    """text with every block's content replaced; ValueError when a block's markers are
    missing or appear more than once."""
    for name, table in generated.items():
        pattern = _pattern(name)
        found = len(pattern.findall(text))
        if found != 1:
            raise ValueError("expected one <!-- %s:begin --> ... <!-- %s:end --> pair, found %d"
                             % (name, name, found))
        text = pattern.sub(lambda m, t=table: m.group(1) + block_text(t) + m.group(3), text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="FILE", type=Path,
                        help="rewrite the marked tables in FILE (docs/hardware.md)")
    args = parser.parse_args(argv)
    try:
        generated = tables()
        old = None if args.write is None else args.write.read_text()
        new = None if old is None else rewrite(old, generated)
    except (OSError, ValueError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    if args.write is None:
        for name, table in generated.items():
            sys.stdout.write("<!-- %s:begin -->\n%s<!-- %s:end -->\n\n"
                             % (name, block_text(table), name))
        return 0
    if new != old:
        args.write.write_text(new)
    print("%s: %s" % (args.write, "tables rewritten" if new != old else "already up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
