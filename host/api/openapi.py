"""/openapi.json as people read it: each field's limits in words, the token where it is asked.

A model's Field says what a value is and its unit ("hold this voltage, V") beside its bounds
(gt=0, le=20); pydantic puts the bounds in the schema, and this module writes them into the
description ("...; 0 < voltage_v <= 20"), so the text cannot disagree with what a request is
checked against. Only a rule between fields is written out by hand, in its model.
"""

from typing import Any

from fastapi import FastAPI

from host.api.deps import BEARER_SCHEME

JsonSchema = dict[str, Any]


def _number(value: float) -> str:
    """A bound as the validator holds it, without a float's trailing .0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _range(name: str, schema: JsonSchema) -> str:
    """'0 < voltage_v <= 20' from (exclusive) minimum and maximum; '' without them."""
    low = high = ""
    if "exclusiveMinimum" in schema:
        low = "%s <" % _number(schema["exclusiveMinimum"])
    elif "minimum" in schema:
        low = "%s <=" % _number(schema["minimum"])
    if "exclusiveMaximum" in schema:
        high = "< %s" % _number(schema["exclusiveMaximum"])
    elif "maximum" in schema:
        high = "<= %s" % _number(schema["maximum"])
    return " ".join(p for p in (low, name, high) if p) if low or high else ""


def _count(schema: JsonSchema, low_key: str, high_key: str, what: str) -> str:
    """'1 to 128 characters', 'at most 16 items', 'at least 3 items'; '' without bounds."""
    low, high = schema.get(low_key, 0), schema.get(high_key)
    if high is None:
        return "at least %d %s" % (low, what) if low else ""
    return "%d to %d %s" % (low, high, what) if low else "at most %d %s" % (high, what)


def limits(name: str, schema: JsonSchema) -> str:
    """What a value must be, in words, from its JSON schema's constraints (a nullable one's
    from its non-null branch); '' for a value without any."""
    parts: list[str] = []
    for branch in schema.get("anyOf", [schema]):
        parts += [_range(name, branch), _count(branch, "minLength", "maxLength", "characters")]
        if "pattern" in branch:
            parts.append("matching %s" % branch["pattern"])
        parts.append(_count(branch, "minItems", "maxItems", "items"))
        items = branch.get("items")
        if isinstance(items, dict) and "description" not in items:  # else in its own text
            each = limits("x", items)
            parts.append("each " + each if each else "")
    return ", ".join(p for p in parts if p)


def _append(node: JsonSchema, text: str) -> None:
    """'description; text' (a node without a description is left for the tests to find)."""
    if text and node.get("description"):
        node["description"] = "%s; %s" % (node["description"], text)


def _describe_limits(name: str, node: JsonSchema) -> None:
    """Append node's limits to its description (and its items' to theirs)."""
    for branch in node.get("anyOf", [node]):
        items = branch.get("items")
        if isinstance(items, dict) and "description" in items:
            _describe_limits("x", items)
    _append(node, limits(name, node))


def _secure_reads(schema: JsonSchema) -> None:
    """On a non-loopback bind every endpoint asks for the token (host.api.deps.read_access),
    so every operation names the scheme."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("security", [{BEARER_SCHEME: []}])


def finish(schema: JsonSchema, loopback: bool) -> JsonSchema:
    """The schema FastAPI generated, with limits in words and the bind's token rule."""
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, prop in component.get("properties", {}).items():
            _describe_limits(name, prop)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _append(parameter, limits(parameter["name"], parameter.get("schema", {})))
    if not loopback:
        _secure_reads(schema)
    return schema


def install(app: FastAPI, loopback: bool) -> None:
    """Serve the finished schema at /openapi.json (built once, on first request)."""

    def openapi() -> JsonSchema:
        if app.openapi_schema is None:
            app.openapi_schema = finish(FastAPI.openapi(app), loopback)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
