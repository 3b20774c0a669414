"""docs/internals.md opens with a map of the house; it names every package there is and no
package that is not."""

import re

from tests.support.paths import REPO

PRODUCT = ("protocol", "firmware", "photometry", "hil_sim", "host")


def _map_text() -> str:
    text = (REPO / "docs" / "internals.md").read_text()
    start = text.index("## The house in ten lines")
    return text[start:text.index("\n## ", start + 1)]


def test_the_map_names_every_top_level_part_and_every_host_package():
    house = _map_text()
    for part in PRODUCT + ("tests", "bench"):
        assert "`%s/`" % part in house, part
    host_packages = sorted(p.name for p in (REPO / "host").iterdir()
                           if (p / "__init__.py").exists())
    for package in host_packages:
        assert "`%s/`" % package in house, package


def test_every_folder_the_map_names_exists():
    house = _map_text()
    named = set(re.findall(r"`([a-z_]+)/`", house))
    host_named = named - set(PRODUCT) - {"tests", "bench", "lumenfw", "support"}
    tests_named = {"protocol", "firmware", "sim", "e2e", "browser"}
    for folder in named & set(PRODUCT):
        assert (REPO / folder).is_dir(), folder
    for folder in host_named - tests_named:
        assert (REPO / "host" / folder / "__init__.py").exists(), folder
    for folder in tests_named:
        assert (REPO / "tests" / folder).is_dir(), folder
    assert (REPO / "firmware" / "lumenfw").is_dir() and (REPO / "tests" / "support").is_dir()


def test_the_map_is_about_ten_lines():
    lines = [line for line in _map_text().splitlines()[1:] if line.strip()]
    assert len(lines) <= 10
