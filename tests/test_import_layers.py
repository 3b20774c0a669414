"""Imports run one way: protocol <- firmware <- hil_sim <- host, with photometry below hil_sim
and host, and the host reaching the simulator through host.simulated only.

Every module of the product is parsed (not imported) and each import statement, wherever it
sits (top level, function, TYPE_CHECKING block), is checked against its layer's allowed set.
tests/ and bench/ sit above everything and are not checked; nothing in the product may
import them.
"""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Top-level module name -> layer. firmware/ holds the package lumenfw and the module main.
LAYER_OF_TOP = {
    "protocol": "protocol",
    "lumenfw": "firmware",
    "main": "firmware",
    "photometry": "photometry",
    "hil_sim": "hil_sim",
    "host": "host",
    "tests": "tests",
    "bench": "bench",
}
# The project layers each layer may import (its own included).
ALLOWED = {
    "protocol": {"protocol"},
    "firmware": {"protocol", "firmware"},
    "photometry": {"photometry"},
    "hil_sim": {"protocol", "firmware", "photometry", "hil_sim"},
    "host": {"protocol", "firmware", "photometry", "host"},
}
# The one host module that may import hil_sim.
HOST_SIM_DOOR = "host.simulated"
# Each layer's folder -> the folder its module names count from (firmware/'s are top-level).
SOURCE_DIRS = {
    "protocol": REPO,
    "firmware": REPO / "firmware",
    "photometry": REPO,
    "hil_sim": REPO,
    "host": REPO,
}


def module_name(path, root):
    """(dotted module name, is a package) of a .py file under root."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imported_modules(tree, module, is_package):
    """(line, absolute module name) of every import in the tree, relative ones resolved."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module
                continue
            base = package[:len(package) - (node.level - 1)]
            if node.level - 1 > len(package) or not base:
                yield node.lineno, "<beyond the top-level package>"
                continue
            yield node.lineno, ".".join(base + ([node.module] if node.module else []))


def layer_violations(source, module, is_package=False, filename="<string>"):
    """'file:line: ...' for every import in source that runs against the layering."""
    layer = LAYER_OF_TOP[module.split(".")[0]]
    allowed = set(ALLOWED[layer])
    if module == HOST_SIM_DOOR:
        allowed.add("hil_sim")
    out = []
    for line, target in imported_modules(ast.parse(source, filename), module, is_package):
        top = target.split(".")[0]
        target_layer = LAYER_OF_TOP.get(top, "project" if top.startswith("<") else None)
        if target_layer is None or target_layer in allowed:
            continue  # the standard library, a third-party package, or downward
        why = ("only %s may import hil_sim" % HOST_SIM_DOOR
               if layer == "host" and target_layer == "hil_sim"
               else "%s may import only %s" % (layer, ", ".join(sorted(ALLOWED[layer]))))
        out.append("%s:%d: %s imports %s (%s)" % (filename, line, module, target, why))
    return out


def product_modules():
    """(path, module name, is a package) of every product module."""
    for layer, root in SOURCE_DIRS.items():
        for path in sorted((REPO / layer).rglob("*.py")):
            yield (path, *module_name(path, root))


def test_every_product_import_runs_downward():
    modules = list(product_modules())
    layers = {LAYER_OF_TOP[name.split(".")[0]] for _, name, _ in modules}
    assert layers == set(ALLOWED), "a layer's folder has no modules: %s" % sorted(layers)
    problems = []
    for path, name, is_package in modules:
        problems += layer_violations(path.read_text(), name, is_package,
                                     str(path.relative_to(REPO)))
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_firmware_main_and_the_simulator_entry_are_where_the_layers_expect():
    names = {name for _, name, _ in product_modules()}
    assert {"main", "lumenfw.device", HOST_SIM_DOOR, "hil_sim.unix_main"} <= names


def test_the_checker_flags_upward_imports_wherever_they_are():
    in_a_function = "import os\n\n\ndef build():\n    from hil_sim import board\n"
    assert layer_violations(in_a_function, "main") == [
        "<string>:5: main imports hil_sim (firmware may import only firmware, protocol)"]
    assert layer_violations("import host.analysis.spectrum\n", "photometry.spectrum")
    assert layer_violations("from photometry import photopic\n", "lumenfw.photodiode")
    assert layer_violations("from host.settings import RigSpec\n", "hil_sim.spec")
    assert layer_violations("from tests.mpy import REPO\n", "protocol.schema")
    assert layer_violations("from lumenfw import board_config\n", "protocol.schema")


def test_the_checker_lets_host_reach_hil_sim_through_its_one_door_only():
    source = "if True:\n    from hil_sim.spec import parse_sim_spec\n"
    assert layer_violations(source, HOST_SIM_DOOR) == []
    assert layer_violations(source, "host.rigs") == [
        "<string>:2: host.rigs imports hil_sim.spec (only host.simulated may import hil_sim)"]


def test_the_checker_resolves_relative_imports_in_their_own_package():
    assert list(imported_modules(ast.parse("from ..simulated import make_rig\n"),
                                 "host.cli.commands", False)) == [(1, "host.simulated")]
    assert list(imported_modules(ast.parse("from . import chips\n"),
                                 "hil_sim", True)) == [(1, "hil_sim")]
    assert layer_violations("from .. import x\n", "protocol.schema") == [
        "<string>:1: protocol.schema imports <beyond the top-level package> "
        "(protocol may import only protocol)"]
    assert layer_violations("from .lifetime import analyse_lifetime\n",
                            "host.analysis.commands") == []
