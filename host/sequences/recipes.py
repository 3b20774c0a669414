"""Recipe files: a test sequence kept as YAML or JSON without its rig, read into the body of
POST /api/sequences, and the bundled ones in the checkout's `recipes/` folder.

A recipe is everything of a SequenceRequest except `rig` (the rig is chosen when it starts,
so one file serves every bench), plus an optional `description`; `channel` may be given.
A file that names a rig is refused rather than overridden: a rig name in a file is a bench
someone meant, and running the stress elsewhere without a word would hide that.

The request is validated by the service (one source of truth); this module only reads
files, so the CLI can use it without numpy or pydantic.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
SUFFIXES = (".yaml", ".yml", ".json")
# A bundled recipe's name is its file's stem: lowercase words joined by hyphens.
NAME_PATTERN = r"^[a-z0-9-]+$"
NAME_MAX_LENGTH = 64
# Keys a recipe may have that the request does not: said about the recipe, not sent.
RECIPE_ONLY = ("description",)


class RecipeError(ValueError):
    """A recipe file that cannot be read; str() names the file and, for bad YAML or JSON,
    the line."""


class RecipeNotFound(RecipeError):
    """No bundled recipe of that name."""


@dataclass(frozen=True)
class Recipe:
    """One recipe file: its request without rig (`spec`), and what it says about itself."""

    name: str  # the file's stem
    path: Path
    title: str | None  # its `name` field
    description: str  # its `description` field, else its leading comment
    spec: dict[str, Any]

    def request(self, rig: str, channel: int | None = None) -> dict[str, Any]:
        """The POST /api/sequences body: the spec on `rig`; `channel` given replaces the
        file's (left out, the file's or the service's default 0)."""
        body = dict(self.spec, rig=rig)
        if channel is not None:
            body["channel"] = channel
        return body


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text (a batch `2026-11-03` stays a label, not a date
    JSON cannot carry) and refuses a key given twice (PyYAML would keep the last silently,
    dropping e.g. a first `steps:`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # an unhashable key is refused by the SafeLoader itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    "%r is given twice" % key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _parsed(path: Path, text: str) -> Any:
    """The document, or RecipeError naming the line and column of the first problem."""
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecipeError("%s line %d, column %d: bad JSON: %s"
                              % (path, exc.lineno, exc.colno, exc.msg)) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        message = "%s%s: bad YAML: %s" % (path, _at(exc.problem_mark or exc.context_mark),
                                          exc.problem or exc.context or "invalid")
        if exc.context and exc.problem:
            message += " (%s%s)" % (exc.context, " at" + _at(exc.context_mark)
                                    if exc.context_mark else "")
        raise RecipeError(message) from None
    except yaml.YAMLError as exc:
        raise RecipeError("%s: bad YAML: %s" % (path, exc)) from None


def _at(mark: Any) -> str:
    """Where a YAML mark points, as people count (from line 1, column 1)."""
    return " line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else ""


def leading_comment(text: str) -> str:
    """The `#` lines a file begins with, as text: lines joined with spaces, a bare `#` line
    starting a new paragraph."""
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        words = stripped.lstrip("#").strip()
        if words:
            paragraphs[-1].append(words)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n".join(" ".join(p) for p in paragraphs if p)


def read_recipe(path: Path | str) -> Recipe:
    """Read one recipe file; RecipeError for a missing or unreadable file, bad YAML or
    JSON (with its line), a top level that is not a mapping, a `rig` in the file, or a
    value JSON cannot carry (.nan, !!binary)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError("no recipe file %s" % path) from None
    except IsADirectoryError:
        raise RecipeError("%s is a folder, not a recipe file" % path) from None
    except UnicodeDecodeError as exc:
        raise RecipeError("%s is not UTF-8 text (byte %d)" % (path, exc.start)) from None
    except OSError as exc:
        raise RecipeError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    document = _parsed(path, text)
    if document is None:
        raise RecipeError("%s is empty: a recipe is a mapping with at least `steps`" % path)
    if not isinstance(document, dict):
        raise RecipeError("%s: the top level must be a mapping (name: ..., steps: ...), not "
                          "a %s" % (path, _type_word(document)))
    if "rig" in document:
        raise RecipeError("%s names rig %r: a recipe runs on any rig; remove `rig` and give "
                          "the rig when starting it (--rig)" % (path, document["rig"]))
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise RecipeError("%s: description must be text, not a %s"
                          % (path, _type_word(description)))
    spec = {key: value for key, value in document.items() if key not in RECIPE_ONLY}
    try:  # what the request and the API's answer must carry as JSON
        json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecipeError("%s holds a value JSON cannot carry (%s): write numbers and text"
                          % (path, exc)) from None
    title = spec.get("name")
    return Recipe(name=path.stem, path=path,
                  title=title if isinstance(title, str) else None,
                  description=(description or leading_comment(text)).strip(), spec=spec)


def _type_word(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def is_recipe_name(name: str) -> bool:
    return len(name) <= NAME_MAX_LENGTH and re.fullmatch(NAME_PATTERN, name) is not None


def bundled_paths(folder: Path = RECIPES_DIR) -> list[Path]:
    """The recipe files of `folder` (by name; not its subfolders)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in SUFFIXES and p.is_file() and is_recipe_name(p.stem))


def bundled_recipe(name: str, folder: Path = RECIPES_DIR) -> Recipe:
    """The bundled recipe `name` (a file stem); RecipeNotFound when there is none."""
    found = [p for p in bundled_paths(folder) if p.stem == name] if is_recipe_name(name) else []
    if not found:
        known = ", ".join(p.stem for p in bundled_paths(folder)) or "none"
        raise RecipeNotFound("no recipe named %r (recipes: %s)" % (name, known))
    return read_recipe(found[0])


def bundled_recipes(folder: Path = RECIPES_DIR) -> tuple[list[Recipe], list[RecipeError]]:
    """Every bundled recipe that reads, and the errors of those that do not (a broken file
    someone dropped in the folder must not hide the others)."""
    recipes: list[Recipe] = []
    errors: list[RecipeError] = []
    for path in bundled_paths(folder):
        try:
            recipes.append(read_recipe(path))
        except RecipeError as exc:
            errors.append(exc)
    return recipes, errors
