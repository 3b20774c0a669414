"""Recipe files: every bundled recipe is a valid sequence on the simulated presets as written,
a file that cannot be a recipe says why (with its line), and the API lists them."""

import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil_sim.physics.led import Led
from hil_sim.presets import PRESETS
from host.sequences import recipes
from host.sequences.recipes import RecipeError, read_recipe
from host.sequences.spec import SequenceRequest, stress_voltage_v
from host.service import create_app
from host.settings import Settings

BUNDLED = recipes.bundled_paths()
EXPECTED = ("cc-lifetime-with-checkups", "cv-lifetime-with-checkups",
            "film-photostability-isos-l", "jvl-before-after")


def _write(tmp_path, text: str, name: str = "r.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path) -> str:
    with pytest.raises(RecipeError) as raised:
        read_recipe(path)
    return str(raised.value)


# ---- the bundled recipes --------------------------------------------------------------------

def test_the_four_recipes_are_bundled():
    assert set(EXPECTED) <= {p.stem for p in BUNDLED}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_a_bundled_recipe_is_a_valid_sequence_with_a_name_and_a_description(path):
    recipe = read_recipe(path)
    request = SequenceRequest.model_validate(recipe.request("rig1"))
    assert request.name and recipe.title == request.name
    assert len(recipe.description) > 40


def test_the_film_recipe_has_only_steps_a_film_can_take_and_its_report_metadata():
    request = SequenceRequest.model_validate(
        recipes.bundled_recipe("film-photostability-isos-l").request("r"))
    assert [s.kind for s in request.steps] == ["photostability"]
    params = request.steps[0].params
    assert (params.duration_s, params.sample_period_s, params.pl_interval_s,
            params.laser_power_mw_cm2, params.wavelength_nm) == (7200, 10, 300, 50, 442)
    metadata = request.metadata
    assert metadata.protocol.startswith("ISOS-L-1")
    assert all((metadata.atmosphere, metadata.encapsulation, metadata.illumination_source,
                metadata.load))


def test_every_checkup_sweep_stays_at_or_below_its_stress_voltage():
    for path in BUNDLED:
        for step in SequenceRequest.model_validate(read_recipe(path).request("r")).steps:
            checkups = getattr(step, "checkups", None)
            if checkups is not None and step.kind == "lifetime":
                assert checkups.step.params.stop_v <= stress_voltage_v(step.params), path


def _fresh_g1_luminance_cd_m2(current_density_ma_cm2: float) -> float:
    """G1's fresh luminance at the voltage where it draws this current density (bisection
    on the simulator's own J-V)."""
    led = Led(PRESETS["G1"])

    def j_ma_cm2(voltage_v):
        led.fresh_point(voltage_v)
        return (led.point_j_diode_a_m2 + led.point_j_shunt_a_m2) / 10

    low_v, high_v = 0.0, 20.0
    for _ in range(60):
        mid_v = (low_v + high_v) / 2
        low_v, high_v = (mid_v, high_v) if j_ma_cm2(mid_v) < current_density_ma_cm2 else (
            low_v, mid_v)
    led.fresh_point(low_v)
    return led.point_luminance_cd_m2


def test_the_constant_current_recipe_starts_g1_near_50_cd_m2():
    request = SequenceRequest.model_validate(
        recipes.bundled_recipe("cc-lifetime-with-checkups").request("r"))
    stress = next(s for s in request.steps if s.kind == "lifetime")
    assert stress.params.current_density_ma_cm2 is not None and stress.checkups is not None
    luminance = _fresh_g1_luminance_cd_m2(stress.params.current_density_ma_cm2)
    assert math.isclose(luminance, 50.0, rel_tol=0.03), luminance


# ---- reading a file -------------------------------------------------------------------------

def test_bad_yaml_names_the_file_and_the_line(tmp_path):
    path = _write(tmp_path, "name: x\nsteps:\n  - kind: jvl\n    params: {stop_v: 10\n")
    message = _error(path)
    assert message.startswith("%s line 5, column 1: bad YAML: " % path), message
    assert "at line 4, column 13" in message


def test_bad_json_names_the_file_and_the_line(tmp_path):
    path = _write(tmp_path, '{"name": "x",\n "steps": [}\n', "r.json")
    assert _error(path).startswith("%s line 2, column 12: bad JSON: " % path)


def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path):
    path = _write(tmp_path, "- kind: jvl\n- kind: jvl\n")
    assert _error(path) == ("%s: the top level must be a mapping (name: ..., steps: ...), "
                            "not a list" % path)


def test_an_empty_or_missing_file_says_so(tmp_path):
    assert "is empty" in _error(_write(tmp_path, "# only a comment\n"))
    assert _error(tmp_path / "nope.yaml") == "no recipe file %s" % (tmp_path / "nope.yaml")


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, "name: x\nsteps: []\nnotes: a\nsteps: [{kind: jvl}]\n")
    assert _error(path).startswith("%s line 4, column 1: bad YAML: 'steps' is given twice"
                                   % path)


def test_a_rig_in_the_file_is_refused_not_overridden(tmp_path):
    message = _error(_write(tmp_path, "rig: bench2\nsteps: [{kind: jvl}]\n"))
    assert "names rig 'bench2'" in message and "--rig" in message


def test_the_rig_and_channel_come_from_outside_and_a_given_channel_wins(tmp_path):
    recipe = read_recipe(_write(tmp_path, "channel: 1\nsteps: [{kind: jvl}]\n"))
    assert recipe.request("rig7") == {"rig": "rig7", "channel": 1, "steps": [{"kind": "jvl"}]}
    assert recipe.request("rig7", channel=0)["channel"] == 0


def test_dates_stay_text_so_the_request_is_json(tmp_path):
    recipe = read_recipe(_write(tmp_path, "device: {batch: 2026-11-03}\nsteps: [{kind: jvl}]\n"))
    assert recipe.spec["device"] == {"batch": "2026-11-03"}
    json.dumps(recipe.request("r"))


def test_a_value_json_cannot_carry_is_refused(tmp_path):
    path = _write(tmp_path, "steps: [{kind: wait, duration_s: .inf}]\n")
    assert _error(path).startswith("%s holds a value JSON cannot carry" % path)


def test_the_description_is_the_field_else_the_leading_comment_and_never_sent(tmp_path):
    commented = read_recipe(_write(tmp_path, "# First line\n# goes on.\n#\n# Second.\n"
                                             "name: x\nsteps: [{kind: jvl}]\n"))
    assert commented.description == "First line goes on.\nSecond."
    described = read_recipe(_write(tmp_path, "# comment\ndescription: said here\n"
                                             "steps: [{kind: jvl}]\n", "d.yaml"))
    assert described.description == "said here" and "description" not in described.spec
    SequenceRequest.model_validate(described.request("r"))


def test_an_unknown_bundled_name_lists_the_known_ones():
    with pytest.raises(recipes.RecipeNotFound) as raised:
        recipes.bundled_recipe("no-such-recipe")
    assert "jvl-before-after" in str(raised.value)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}#,'\"!&*?|>% \n\t1.")), max_size=80))
def test_any_text_is_a_recipe_or_a_recipe_error(tmp_path, text):
    path = _write(tmp_path, text)
    try:
        read_recipe(path)
    except RecipeError:
        pass


# ---- the API --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recipes-api")
    settings = Settings(db_url="sqlite:///%s" % (folder / "api.sqlite"), data_dir=folder,
                        token="t0ken-for-the-recipe-tests")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_api_lists_every_bundled_recipe_with_its_title_description_and_spec(client):
    listed = client.get("/api/recipes")
    assert listed.status_code == 200
    by_name = {r["name"]: r for r in listed.json()["recipes"]}
    assert set(by_name) == {p.stem for p in BUNDLED}
    for path in BUNDLED:
        recipe = read_recipe(path)
        assert by_name[path.stem] == {"name": path.stem, "title": recipe.title,
                                      "description": recipe.description, "spec": recipe.spec}


def test_the_api_gives_one_recipe_by_name_and_404_or_422_for_others(client):
    one = client.get("/api/recipes/jvl-before-after")
    assert one.status_code == 200 and one.json()["name"] == "jvl-before-after"
    assert "rig" not in one.json()["spec"]
    missing = client.get("/api/recipes/no-such-recipe")
    assert missing.status_code == 404 and "jvl-before-after" in missing.json()["detail"]
    assert client.get("/api/recipes/Not.Allowed").status_code == 422
