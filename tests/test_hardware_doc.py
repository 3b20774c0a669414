"""docs/hardware.md's tables are what scripts/wiring_table.py makes of board_config.py now, the
script refuses a config that cannot be wired, and every constant the page cites exists."""

import importlib.util
import re
import subprocess
import sys
import types

import pytest

from lumenfw import board_config
from tests.support.paths import REPO

DOC = REPO / "docs" / "hardware.md"
SCRIPT = REPO / "scripts" / "wiring_table.py"
REGENERATE = ".venv/bin/python scripts/wiring_table.py --write docs/hardware.md"


def _load_script():
    spec = importlib.util.spec_from_file_location("wiring_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wiring = _load_script()
GENERATED = wiring.tables()


def _config(**changes):
    """board_config's constants as a plain object, with some of them changed."""
    values = {name: getattr(board_config, name) for name in dir(board_config) if name.isupper()}
    values.update(changes)
    return types.SimpleNamespace(**values)


@pytest.mark.parametrize("block", wiring.BLOCKS)
def test_the_doc_table_is_what_board_config_generates_now(block):
    text = DOC.read_text()
    found = wiring.read_block(text, block)
    assert found is not None, (
        "docs/hardware.md has lost its <!-- %s:begin --> / <!-- %s:end --> markers" % (block,
                                                                                       block))
    assert found == wiring.block_text(GENERATED[block]), (
        "docs/hardware.md's %s table no longer matches firmware/lumenfw/board_config.py: run "
        "`%s` and commit the result" % (block, REGENERATE))


def test_every_pin_and_address_constant_has_a_row_in_the_wiring_table():
    names = [n for n in dir(board_config) if n.startswith(("PIN_", "ADDR_"))]
    assert names
    for name in names:
        assert "`%s`" % name in GENERATED["wiring"], name


def test_write_mode_replaces_the_tables_and_nothing_else(tmp_path):
    text = DOC.read_text()
    stale = text
    for block in wiring.BLOCKS:
        stale = stale.replace(wiring.read_block(text, block), "\n| stale |\n\n")
    target = tmp_path / "hardware.md"
    target.write_text(stale)
    assert wiring.main(["--write", str(target)]) == 0
    assert target.read_text() == wiring.rewrite(text, GENERATED)


def test_write_mode_refuses_a_file_without_the_markers(tmp_path, capsys):
    target = tmp_path / "other.md"
    target.write_text("# no tables here\n")
    assert wiring.main(["--write", str(target)]) == 2
    assert "<!-- wiring:begin -->" in capsys.readouterr().err
    assert target.read_text() == "# no tables here\n"


@pytest.mark.parametrize("changes, message", [
    ({"PIN_LASER": board_config.PIN_RELAY}, "both GPIO"),
    ({"PIN_LASER": 23}, "the Pico brings out no such GPIO"),
    ({"PIN_SDA": board_config.PIN_SDA + 2}, "is not SDA of I2C"),
    ({"ADDR_SHT31": board_config.ADDR_INA226}, "are both 0x"),
    ({"PD_RANGES": ((0, 5, 25, 16),) + board_config.PD_RANGES[1:]}, r"PD_RANGES\[0\]"),
    ({"TIA_RAIL_MV": 4_000}, "clips at or below the ADC"),
    ({"INA226_CAL": 1024}, "INA226_CAL"),
    ({"MAX_SETPOINT_MV": 20_000}, "MAX_SETPOINT_MV"),
], ids=["shared-gpio", "internal-gpio", "wrong-i2c-pin", "shared-address", "range-scale",
        "tia-rail", "ina226-cal", "dac-top"])
def test_a_config_that_cannot_be_wired_or_disagrees_with_itself_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        wiring.tables(_config(**changes), comments={})


def test_the_script_runs_from_anywhere_without_the_installed_package(tmp_path):
    done = subprocess.run([sys.executable, "-S", str(SCRIPT)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for block in wiring.BLOCKS:
        assert "<!-- %s:begin -->\n%s<!-- %s:end -->" % (
            block, wiring.block_text(GENERATED[block]), block) in done.stdout


def _defined_constants():
    """Upper-case names assigned at the start of a line in the firmware and the protocol."""
    names = set()
    for path in [*(REPO / "firmware" / "lumenfw").rglob("*.py"), *(REPO / "protocol").glob("*.py")]:
        names.update(re.findall(r"^([A-Z][A-Z0-9_]+)\s*=", path.read_text(), re.M))
    return names


def test_every_constant_the_page_cites_exists():
    cited = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", DOC.read_text()))
    assert cited
    missing = sorted(cited - _defined_constants())
    assert not missing, "docs/hardware.md cites constants that no longer exist: %s" % missing
