"""The API's schema is a manual a user can rely on: every field described with its unit and
limits, those limits the ones the validators enforce, answers that are what the schema says,
the token scheme on the operations that need it, and /docs working with no network beyond
the service (the app in-process; one simulated rig for the rig answers)."""

import math
import re

import pytest
from fastapi.testclient import TestClient

from host.runs.params import MAX_VOLTAGE_V
from host.service import create_app
from host.settings import RigSpec, Settings
from host.store import Store
from tests.support.waiting import wait_for

TOKEN = "t0ken-for-the-openapi-tests"
AUTH = {"Authorization": "Bearer " + TOKEN}
# A field's name ends with its unit (STYLE.md); its description then says the unit as
# ", UNIT" followed by ',', ';' or the end. Longest suffix first.
UNITS = (("_cd_m2", "cd/m2"), ("_ma_cm2", "mA/cm2"), ("_mw_cm2", "mW/cm2"), ("_mm2", "mm2"),
         ("_mm", "mm"), ("_nm", "nm"), ("_pct", "%"), ("_v", "V"), ("_a", "A"), ("_s", "s"),
         ("_c", "°C"))
# A body every kind takes as it is (no rig is configured, so a valid one is a 404).
VALID_PARAMS = {"lifetime": {"voltage_v": 5.0}, "photostability": {}, "jvl": {}}
LIFETIME_DRIVES = ("voltage_v", "target_l0_cd_m2", "current_a", "current_density_ma_cm2")


def _settings(tmp_path, **changes) -> Settings:
    return Settings(db_url="sqlite:///%s" % (tmp_path / "api.sqlite"), token=TOKEN,
                    data_dir=tmp_path, **changes)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(_settings(tmp_path_factory.mktemp("openapi")))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def openapi(client):
    return client.get("/openapi.json").json()


def _resolve(openapi, node):
    while "$ref" in node:
        node = openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _properties(openapi):
    """(where, name, property) of every property of every component schema."""
    for model, schema in openapi["components"]["schemas"].items():
        for name, prop in schema.get("properties", {}).items():
            yield "%s.%s" % (model, name), name, prop


def _operations(openapi):
    """(method, path, operation) of every operation."""
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _parameters(openapi):
    for method, path, operation in _operations(openapi):
        for parameter in operation.get("parameters", []):
            yield "%s %s ?%s" % (method.upper(), path, parameter["name"]), parameter


# ---- descriptions ---------------------------------------------------------------------------

def test_every_property_of_every_schema_has_a_description(openapi):
    missing = [where for where, _name, prop in _properties(openapi)
               if not (prop.get("description") or "").strip()]
    assert not missing, "properties without a description: %s" % ", ".join(missing)


def test_every_parameter_has_a_description(openapi):
    missing = [where for where, parameter in _parameters(openapi)
               if not (parameter.get("description") or "").strip()]
    assert not missing, "parameters without a description: %s" % ", ".join(missing)


def test_a_field_named_with_a_unit_says_the_unit_in_its_description(openapi):
    named = [(where, name, prop.get("description") or "")
             for where, name, prop in _properties(openapi)]
    named += [(where, p["name"], p.get("description") or "") for where, p in _parameters(openapi)]
    wrong = []
    for where, name, description in named:
        unit = next((u for suffix, u in UNITS if name.endswith(suffix)), None)
        if unit and not re.search(r"(^|, )%s([,;]|$)" % re.escape(unit), description):
            wrong.append("%s (%s): %r" % (where, unit, description))
    assert not wrong, "descriptions without their field's unit:\n" + "\n".join(wrong)


def test_a_bounded_field_says_its_bounds_in_its_description(openapi):
    params = openapi["components"]["schemas"]["LifetimeParams"]["properties"]
    assert params["voltage_v"]["description"].endswith(
        "; 0 < voltage_v <= %s" % _number_text(MAX_VOLTAGE_V))
    assert params["stop_fraction"]["description"].endswith("; 0 < stop_fraction < 1")
    labels = openapi["components"]["schemas"]["DeviceUnderTest"]["properties"]
    assert labels["name"]["description"].endswith("; 1 to 128 characters")


# ---- the documented limits are the enforced ones ---------------------------------------------

def _number_text(value):
    return str(int(value)) if float(value).is_integer() else repr(value)


def _bounded(schema):
    """The non-null branch of a (nullable) scalar schema, with a bound, or None."""
    branch = next((b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"), {})
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
            "maxLength")
    return branch if branch.get("type") in ("number", "integer", "string") and any(
        k in branch for k in keys) else None


def _edges(schema):
    """(just beyond, just inside) pairs for each bound of a scalar schema."""
    integer = schema["type"] == "integer"  # its bounds come as floats (FastAPI's OpenAPI model)

    def move(value, direction):
        return value + direction if integer else math.nextafter(value, direction * math.inf)

    def bound(key):
        return int(schema[key]) if integer else schema[key]

    for key, direction in (("minimum", -1), ("maximum", 1)):
        if key in schema:
            yield key, move(bound(key), direction), bound(key)
    for key, direction in (("exclusiveMinimum", -1), ("exclusiveMaximum", 1)):
        if key in schema:
            yield key, bound(key), move(bound(key), -direction)
    if schema.get("minLength"):
        yield "minLength", "x" * (schema["minLength"] - 1), "x" * schema["minLength"]
    if "maxLength" in schema:
        yield "maxLength", "x" * (schema["maxLength"] + 1), "x" * schema["maxLength"]


def _run_body(kind, params=None, **labels):
    return {"kind": kind, "params": dict(VALID_PARAMS[kind], **(params or {})), **labels}


def _bounded_request_fields(openapi):
    """(case id, how to send a value, the error's field, schema, description) of each bounded
    scalar field of a run request and of a calibration."""
    schemas = openapi["components"]["schemas"]
    for kind, model in (("lifetime", "LifetimeParams"), ("photostability",
                                                          "PhotostabilityParams"),
                        ("jvl", "JvlParams")):
        for name, prop in schemas[model]["properties"].items():
            if _bounded(prop):
                def send(value, kind=kind, name=name):
                    params = {name: value}
                    if name in LIFETIME_DRIVES:
                        return {"kind": kind, "params": params}
                    return _run_body(kind, params)
                yield "%s.%s" % (model, name), "POST", send, "params." + name, prop
    for name, prop in schemas["DeviceUnderTest"]["properties"].items():
        if _bounded(prop):
            yield ("DeviceUnderTest.%s" % name, "POST",
                   lambda value, name=name: _run_body("lifetime", device={name: value}),
                   "device." + name, prop)
    for name, prop in schemas["LifetimeRequest"]["properties"].items():
        if _bounded(prop) and name not in ("kind", "params", "device"):
            yield ("LifetimeRequest.%s" % name, "POST",
                   lambda value, name=name: _run_body("lifetime", **{name: value}), name, prop)
    for name, prop in schemas["PhotodiodeCalibration"]["properties"].items():
        if _bounded(prop):
            yield ("PhotodiodeCalibration.%s" % name, "PUT",
                   lambda value, name=name: dict(_calibration(), **{name: value}), name, prop)


def _calibration():
    from hil_sim.optics import calibration

    return calibration("G1").model_dump(mode="json")


def _post(client, method, body):
    if method == "PUT":
        return client.put("/api/rigs/rig1/calibration", json=body, headers=AUTH)
    return client.post("/api/runs", json=body, headers=AUTH)


def test_the_valid_bodies_the_limit_tests_start_from_pass_validation(client):
    for kind in VALID_PARAMS:
        response = client.post("/api/runs", json=_run_body(kind), headers=AUTH)
        assert response.status_code == 404, response.text  # no rig: validation passed
    assert _post(client, "PUT", _calibration()).status_code == 404


def test_a_value_just_beyond_each_documented_bound_is_422_and_one_at_it_is_not(client, openapi):
    cases = list(_bounded_request_fields(openapi))
    assert len(cases) > 30, "the walk over the request schemas found too few bounded fields"
    wrong = []
    for case, method, send, field, prop in cases:
        for bound, beyond, inside in _edges(_bounded(prop)):
            if bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                # What the description says is the schema's number, as written there.
                number = _number_text(_bounded(prop)[bound])
                if number not in prop["description"]:
                    wrong.append("%s: %s %s not in %r" % (case, bound, number,
                                                          prop["description"]))
            refused = _post(client, method, send(beyond))
            if refused.status_code != 422 or field not in refused.json()["detail"]:
                wrong.append("%s = %r (beyond %s): %d %s" % (case, beyond, bound,
                                                              refused.status_code,
                                                              refused.text[:200]))
            taken = _post(client, method, send(inside))
            if taken.status_code == 422 and field + ":" in taken.json()["detail"]:
                wrong.append("%s = %r (at %s): %s" % (case, inside, bound, taken.text[:200]))
    assert not wrong, "documented and enforced limits differ:\n" + "\n".join(wrong)


def _path_with(path, **values):
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), {"run_id": 1, "rig": "rig1",
                                                                      "calibration_id": 1,
                                                                      "sequence_id": 1,
                                                                      "name": "jvl-before-after"}
                                                         [m.group(1)])), path)


def test_a_query_or_path_value_beyond_its_documented_bound_is_422(client, openapi):
    wrong = []
    checked = 0
    for method, path, operation in _operations(openapi):
        if method != "get":
            continue
        for parameter in operation.get("parameters", []):
            schema = _bounded(parameter["schema"])
            if schema is None:
                continue
            name, where = parameter["name"], parameter["in"]
            for bound, beyond, inside in _edges(schema):
                for value, refused in ((beyond, True), (inside, False)):
                    url = _path_with(path, **({name: value} if where == "path" else {}))
                    query = {name: value} if where == "query" else {}
                    response = client.get(url, params=query)
                    said = response.status_code == 422 and name in response.json()["detail"]
                    if said != refused:
                        wrong.append("%s %s=%r (%s): %d %s" % (path, name, value, bound,
                                                             response.status_code,
                                                             response.text[:200]))
                checked += 1
    assert checked >= 10
    assert not wrong, "\n".join(wrong)


# ---- the bearer scheme ----------------------------------------------------------------------

def _call(client, method, path):
    url = _path_with(path)
    if method in ("post", "put", "patch"):
        return client.request(method, url, json={})
    return client.request(method, url)


def _scheme_name(openapi):
    schemes = openapi["components"]["securitySchemes"]
    (name, scheme), = schemes.items()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "LUMENRIG_TOKEN" in scheme["description"]
    return name


def test_the_operations_that_need_the_token_name_the_bearer_scheme_and_no_other_does(
        client, openapi):
    name = _scheme_name(openapi)
    wrong = []
    for method, path, operation in _operations(openapi):
        needs = _call(client, method, path).status_code == 401
        names = {key for requirement in operation.get("security", []) for key in requirement}
        if needs != (names == {name}):
            wrong.append("%s %s: answers %s without a token, security %s"
                         % (method.upper(), path, "401" if needs else "no 401",
                            operation.get("security")))
    assert not wrong, "\n".join(wrong)
    assert any(op.get("security") for _m, _p, op in _operations(openapi))
    assert "security" not in openapi["paths"]["/api/runs"]["get"]


def test_on_a_non_loopback_bind_every_operation_names_the_scheme_and_needs_the_token(tmp_path):
    with TestClient(create_app(_settings(tmp_path, host="0.0.0.0"))) as c:
        openapi = c.get("/openapi.json").json()
        name = _scheme_name(openapi)
        for method, path, operation in _operations(openapi):
            assert operation.get("security") == [{name: []}], (method, path)
            assert _call(c, method, path).status_code == 401, (method, path)


def test_the_token_errors_are_unchanged(client):
    missing = client.post("/api/runs", json=_run_body("lifetime"))
    wrong = client.post("/api/runs", json=_run_body("lifetime"),
                        headers={"Authorization": "Bearer not-the-token-at-all"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["detail"].startswith("missing bearer token: send 'Authorization: "
                                               "Bearer <token>': the token is LUMENRIG_TOKEN")
    assert wrong.json()["detail"].startswith("wrong bearer token: ")


# ---- /docs offline ---------------------------------------------------------------------------

def _page_urls(html):
    return re.findall(r"""(?:src|href)="([^"]*)"|url: '([^']*)'""", html)


def test_docs_reference_only_the_service_and_every_file_is_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    urls = [a or b for a, b in _page_urls(html)]
    assert "/openapi.json" in urls
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    types = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 100, url
        types[url] = response.headers["content-type"].split(";")[0]
    assert "text/javascript" in types.values() and "text/css" in types.values(), types
    assert set(types.values()) <= {"text/javascript", "text/css", "image/png",
                                   "application/json"}, types


def test_docs_turn_off_the_online_schema_validator(client):
    # Swagger UI would otherwise send the schema to validator.swagger.io.
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_served_swagger_ui_reads_the_openapi_version_the_app_writes(client, openapi):
    # Swagger UI 4 refuses OpenAPI 3.1 ("does not specify a valid version field").
    assert openapi["openapi"].startswith("3.1")
    script = client.get("/vendor/swagger-ui/swagger-ui-bundle.js").text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', script)
    assert version and int(version.group(1)) >= 5


def test_only_the_pages_files_are_served_from_the_swagger_package(client):
    assert client.get("/vendor/swagger-ui/index.html").status_code == 404
    assert client.get("/vendor/swagger-ui/__init__.py").status_code == 404


# ---- answers are what the schema says ------------------------------------------------------

def _undocumented(openapi, value, schema, where="answer"):
    """Keys in value its schema does not name, and names it requires that value lacks."""
    schema = _resolve(openapi, schema)
    if value is None:
        return []
    if "anyOf" in schema:
        branches = [_resolve(openapi, b) for b in schema["anyOf"] if b.get("type") != "null"]
        return _undocumented(openapi, value, branches[0], where) if len(branches) == 1 else []
    if isinstance(value, list) and "items" in schema:
        return [p for i, item in enumerate(value)
                for p in _undocumented(openapi, item, schema["items"], "%s[%d]" % (where, i))]
    if not isinstance(value, dict) or "properties" not in schema:
        return []
    props = schema["properties"]
    out = ["%s.%s: not in the schema" % (where, k) for k in value if k not in props]
    out += ["%s.%s: required, missing" % (where, k) for k in schema.get("required", ())
            if k not in value]
    for key in value.keys() & props.keys():
        out += _undocumented(openapi, value[key], props[key], "%s.%s" % (where, key))
    return out


def _answer_schema(openapi, method, path, status="200"):
    content = openapi["paths"][path][method]["responses"][status]["content"]
    return content["application/json"]["schema"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A service on a store holding one labelled, finished run with events, its rig
    calibrated, and one simulated rig connected."""
    folder = tmp_path_factory.mktemp("answers")
    url = "sqlite:///%s" % (folder / "answers.sqlite")
    with Store(url) as store:
        store.upsert_rig("bench", "sim:G1")
        store.set_calibration("bench", _calibration())
        labels = {"device": {"name": "G1", "pixel": "A3", "area_mm2": 4.0}, "operator": "ana",
                  "notes": "first", "tags": ["pe"]}
        run = store.create_run("bench", "lifetime", {"voltage_v": 5.0}, labels=labels)
        store.update_run(run.id, state="running")
        store.add_event("interlock_open", "interlock opened", rig="bench", run_id=run.id,
                        data={"t_s": 3.0})
        store.update_run(run.id, state="completed", summary={"l0_cd_m2": 100.0, "t50_s": 60.0,
                                                             "notes": ["a note"]})
    settings = Settings(db_url=url, token=TOKEN, data_dir=folder,
                        rigs=[RigSpec(name="rig1", spec="sim:G1?accel=100&seed=3")])
    with TestClient(create_app(settings)) as c:
        wait_for(lambda: c.get("/api/rigs/rig1").json()["connected"], 30, "the sim rig's link")
        yield c, run.id


def test_the_run_answers_carry_exactly_what_their_schema_documents(seeded, openapi):
    c, run_id = seeded
    answers = [
        ("get", "/api/runs", c.get("/api/runs")),
        ("get", "/api/runs/{run_id}", c.get("/api/runs/%d" % run_id)),
        ("patch", "/api/runs/{run_id}", c.patch("/api/runs/%d" % run_id,
                                                json={"notes": "second"}, headers=AUTH)),
        ("post", "/api/runs/{run_id}/archive",
         c.post("/api/runs/%d/archive" % run_id, headers=AUTH)),
        ("get", "/api/calibrations/{calibration_id}", c.get("/api/calibrations/1")),
        ("get", "/api/health", c.get("/api/health")),
        ("get", "/api/rigs", c.get("/api/rigs")),
        ("get", "/api/rigs/{rig}", c.get("/api/rigs/rig1")),
    ]
    wrong = []
    for method, path, response in answers:
        assert response.status_code == 200, (path, response.text)
        wrong += ["%s %s: %s" % (method.upper(), path, p) for p in _undocumented(
            openapi, response.json(), _answer_schema(openapi, method, path))]
    assert not wrong, "answers and their schemas differ:\n" + "\n".join(wrong)


def test_a_checked_answer_keeps_the_keys_the_service_built(seeded):
    # GET /api/runs/{id} is written as built; the POST answers go through their model.
    c, run_id = seeded
    built = c.get("/api/runs/%d" % run_id).json()
    checked = c.post("/api/runs/%d/unarchive" % run_id, headers=AUTH).json()
    assert set(checked) == set(built)
    assert set(checked["events"][0]) == set(built["events"][0])
    assert checked["created_at"] == built["created_at"]  # timestamps as text, untouched
    rig = c.get("/api/rigs/rig1").json()
    assert "simulator" in rig and "calibration_error" in rig


def test_a_refused_request_is_documented_as_the_error_shape_it_gets(client, openapi):
    refused = client.post("/api/runs", json=_run_body("lifetime", {"voltage_v": 99}),
                          headers=AUTH)
    schema = _answer_schema(openapi, "post", "/api/runs", "422")
    assert not _undocumented(openapi, refused.json(), schema)
    missing = client.get("/api/runs/999")
    assert missing.status_code == 404
    assert not _undocumented(openapi, missing.json(),
                             _answer_schema(openapi, "get", "/api/runs/{run_id}", "404"))
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
