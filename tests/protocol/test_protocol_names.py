"""Every number the schema defines has its word in protocol/names.py, and the board never
imports those words (they would cost its heap for text it never sends)."""

import re

import pytest

from protocol import names, schema
from tests.support.paths import REPO


def _constants(prefix: str, exclude: tuple[str, ...] = ()) -> dict[str, int]:
    return {name: getattr(schema, name) for name in dir(schema)
            if name.startswith(prefix) and not name.endswith("_NAMES") and name not in exclude}


@pytest.mark.parametrize(("prefix", "table"), [
    ("STATE_", names.STATE_NAMES), ("MODE_", names.MODE_NAMES),
    ("STOP_", names.STOP_NAMES), ("FAULT_", names.FAULT_NAMES),
    ("CHECK_", names.CHECK_STATE_NAMES)])
def test_each_indexed_table_names_every_constant_of_its_kind_by_its_value(prefix, table):
    constants = _constants(prefix, exclude=("STOP_RUN",))  # (a message id)
    assert sorted(constants.values()) == list(range(len(table))), (prefix, constants)
    for name, value in constants.items():
        assert table[value] == name[len(prefix):].lower(), (name, table[value])


@pytest.mark.parametrize(("prefix", "table"), [
    ("EV_", names.EVENT_NAMES), ("NACK_", names.NACK_NAMES)])
def test_each_keyed_table_names_every_constant_of_its_kind(prefix, table):
    constants = _constants(prefix)
    assert set(table) == set(constants.values())
    for name, value in constants.items():
        assert table[value] == name[len(prefix):].lower(), (name, table[value])


def test_no_board_module_imports_the_names():
    board_sources = [*(REPO / "firmware").rglob("*.py"), *(REPO / "protocol").glob("*.py")]
    importers = [path.relative_to(REPO) for path in board_sources
                 if path.name != "names.py"
                 and re.search(r"^\s*(from protocol(\.names)? import .*\bnames\b|"
                               r"import protocol\.names)", path.read_text(), re.M)]
    assert importers == []
    assert not any(n.endswith("_NAMES") and n != "SAMPLE_NAMES" for n in dir(schema))
