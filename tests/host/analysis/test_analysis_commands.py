"""`analyze_csv`: the contract of `lumenrig analyze` on good files and on files a person must fix."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.analysis.commands import (
    analyze_csv,
    summarize_jvl,
    summarize_lifetime,
    summarize_photostability,
)
from host.analysis.errors import AnalysisInputError
from tests.support.paths import DATA

ANALYSIS_DATA = DATA / "analysis"
LIFETIME_KEYS = {"l0_cd_m2", "t50_s", "t80_s", "t95_s", "fit_tau_s", "fit_beta"}
FIT_KEYS = {"t50_fit_s", "t80_fit_s", "t95_fit_s"}
PHOTOSTABILITY_KEYS = {"min_fraction", "t_min_s", "final_fraction", "recovery_fraction"}
JVL_KEYS = {
    "eqe_max_pct",
    "ce_max_cd_a",
    "pe_max_lm_w",
    "l_max_cd_m2",
    "turn_on_v",
    "peak_nm",
    "fwhm_nm",
}


def strict_json(result):
    """The result survives JSON without NaN, and holds no numpy types."""
    return json.loads(json.dumps(result, allow_nan=False))


def test_lifetime_file_gives_the_model_lifetimes():
    # tests/data/analysis/README.md: L = 50 exp(-(t/996.113)^0.8): T50 630 s, T80 152.77 s,
    # T95 24.32 s; the extra temperature_c column and the trailing blank line are ignored.
    r = analyze_csv(ANALYSIS_DATA / "lifetime_g1.csv", "lifetime")
    assert strict_json(r) == r
    assert LIFETIME_KEYS | FIT_KEYS <= r.keys()
    assert r["l0_cd_m2"] == pytest.approx(50.0)
    assert r["t50_s"] == pytest.approx(630.0, abs=0.01)
    assert r["t80_s"] == pytest.approx(152.77, abs=0.05)
    assert r["t95_s"] == pytest.approx(24.32, abs=0.05)
    assert r["fit_tau_s"] == pytest.approx(996.113, rel=1e-4)
    assert r["fit_beta"] == pytest.approx(0.8, rel=1e-4)


def test_lifetime_extrapolation_reports_target_and_assumption():
    # 630 s at 50 cd/m2 -> 100 cd/m2 with n = 1.5: 630 * 0.5^1.5 = 222.74 s
    r = analyze_csv(ANALYSIS_DATA / "lifetime_g1.csv", "lifetime", extrapolate_to=100.0, accel_n=1.5)
    assert r["t50_at_target_s"] == pytest.approx(222.74, abs=0.01)
    assert "n = 1.5" in r["extrapolation_assumption"]


def test_photostability_file_gives_the_reference_shape():
    r = analyze_csv(ANALYSIS_DATA / "photostability_film.csv", "photostability")
    assert strict_json(r) == r
    assert PHOTOSTABILITY_KEYS <= r.keys()
    assert r["min_fraction"] == pytest.approx(0.75)
    assert r["t_min_s"] == 2100.0
    assert r["recovery_fraction"] == pytest.approx(0.15)
    assert r["final_fraction"] == pytest.approx(0.88)


def test_jvl_file_with_spectrum_gives_hand_worked_values():
    # Lit points: CE 5/(10*0.1) = 5.0 cd/A at 4 V (PE pi*5/4 = 3.92699 lm/W), 4.0 at 5 V,
    # 3.0 at 6 V, 2.0 at 7 V, 1.2 at 8 V; 3 V (0.5 cd/m2) is below 1 cd/m2 and not counted.
    # Turn-on between (3 V, 0.5) and (4 V, 5): 3 + ln(1/0.5)/ln(5/0.5) = 3.30103 V.
    # EQE = 5.0 cd/A * 0.2647 %/(cd/A) for the 522 nm, 16 nm FWHM Gaussian = 1.3235 %.
    r = analyze_csv(ANALYSIS_DATA / "jvl_g1.csv", "jvl", spectrum_path=ANALYSIS_DATA / "el_spectrum_g1.csv")
    assert strict_json(r) == r
    assert JVL_KEYS <= r.keys()
    assert r["ce_max_cd_a"] == pytest.approx(5.0)
    assert r["pe_max_lm_w"] == pytest.approx(3.92699, abs=1e-5)
    assert r["l_max_cd_m2"] == 600.0
    assert r["turn_on_v"] == pytest.approx(3.30103, abs=1e-5)
    assert r["eqe_max_pct"] == pytest.approx(1.3235, abs=1e-3)
    assert r["peak_nm"] == pytest.approx(522.0, abs=0.01)
    assert r["fwhm_nm"] == pytest.approx(16.0, abs=0.01)


def test_jvl_file_without_spectrum_has_null_spectral_keys_and_a_note():
    r = analyze_csv(ANALYSIS_DATA / "jvl_g1.csv", "jvl")
    assert JVL_KEYS <= r.keys()
    assert r["eqe_max_pct"] is None and r["peak_nm"] is None and r["fwhm_nm"] is None
    assert r["notes"] and "spectrum" in r["notes"][0]


def test_lifetime_that_stops_early_has_null_t50_and_fit_estimate(tmp_path):
    rows = ["t_s,luminance_cd_m2"] + [
        f"{t},{50 * math.exp(-((t / 1000) ** 0.8)):.6f}" for t in range(0, 401, 5)
    ]
    path = tmp_path / "early.csv"
    path.write_text("\n".join(rows))
    r = analyze_csv(path, "lifetime")
    assert r["t50_s"] is None
    # 1000 * ln(2)^1.25 = 632.46 s
    assert r["t50_fit_s"] == pytest.approx(632.46, rel=2e-3)
    assert strict_json(r) == r


GOOD_HEAD = "t_s,luminance_cd_m2\n0,50\n10,45\n"
BAD_FILES = [
    ("missing_column.csv", b"t_s,lum\n0,50\n10,45\n20,40\n", "missing column(s) 'luminance_cd_m2'"),
    ("semicolons.csv", b"t_s;luminance_cd_m2\n0;50\n1;45\n2;40\n", "use ','"),
    (
        "non_numeric.csv",
        GOOD_HEAD.encode() + b"20,abc\n",
        "line 4: column 'luminance_cd_m2': 'abc'",
    ),
    ("empty_cell.csv", GOOD_HEAD.encode() + b"20,\n", "line 4: column 'luminance_cd_m2' is empty"),
    ("short_row.csv", GOOD_HEAD.encode() + b"20\n", "line 4: column 'luminance_cd_m2' (field 2)"),
    ("unsorted.csv", GOOD_HEAD.encode() + b"5,40\n", "line 4: t_s goes backwards (5 after 10)"),
    ("duplicate.csv", GOOD_HEAD.encode() + b"10,40\n", "line 4: duplicate t_s 10"),
    ("two_points.csv", GOOD_HEAD.encode(), "has 2 data row(s): at least 3"),
    ("header_only.csv", b"t_s,luminance_cd_m2\n", "has 0 data row(s)"),
    ("negative.csv", GOOD_HEAD.encode() + b"20,-1\n", "line 4: luminance_cd_m2 is -1, negative"),
    ("negative_time.csv", b"t_s,luminance_cd_m2\n-1,50\n0,45\n1,40\n", "line 2: t_s is -1"),
    (
        "nan.csv",
        GOOD_HEAD.encode() + b"20,nan\n",
        "line 4: column 'luminance_cd_m2': 'nan' is not a finite",
    ),
    ("inf.csv", GOOD_HEAD.encode() + b"20,inf\n", "'inf' is not a finite number"),
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n\n  \n", "the file is empty"),
    (
        "latin1.csv",
        b"t_s,luminance_cd_m2\n0,50\n10,45 \xb5\n",
        "line 3: not UTF-8 text (byte 0xb5)",
    ),
    ("binary.csv", b"t_s,luminance_cd_m2\n\x00\x01\x02", "NUL bytes"),
    ("doubled.csv", b"t_s,t_s,luminance_cd_m2\n0,0,1\n1,1,1\n2,2,1\n", "appears twice"),
]


@pytest.mark.parametrize(("name", "content", "fragment"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_lifetime_file_raises_an_actionable_error(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AnalysisInputError) as info:
        analyze_csv(path, "lifetime")
    assert fragment in str(info.value)
    assert name in str(info.value)


def test_missing_file_is_an_actionable_error(tmp_path):
    with pytest.raises(AnalysisInputError, match="no such file"):
        analyze_csv(tmp_path / "nowhere.csv", "lifetime")


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(AnalysisInputError, match="lifetime, photostability, jvl"):
        analyze_csv(ANALYSIS_DATA / "lifetime_g1.csv", "efficiency")


def test_spectrum_option_belongs_to_jvl_only():
    with pytest.raises(AnalysisInputError, match="--kind jvl only"):
        analyze_csv(ANALYSIS_DATA / "lifetime_g1.csv", "lifetime", spectrum_path=ANALYSIS_DATA / "el_spectrum_g1.csv")


def test_extrapolation_target_must_be_positive():
    with pytest.raises(AnalysisInputError, match="must be a positive number"):
        analyze_csv(ANALYSIS_DATA / "lifetime_g1.csv", "lifetime", extrapolate_to=-5.0)


def test_negative_pl_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "pl.csv"
    path.write_text("t_s,pl\n0,10\n300,-2\n600,8\n")
    with pytest.raises(AnalysisInputError, match=r"pl.csv, line 3: pl is -2, negative"):
        analyze_csv(path, "photostability")


def test_spectrum_with_wavelengths_out_of_order_names_its_line(tmp_path):
    path = tmp_path / "spec.csv"
    path.write_text("wavelength_nm,intensity\n510,0\n520,1\n515,0.5\n530,0\n")
    with pytest.raises(AnalysisInputError, match=r"spec.csv, line 4: wavelength_nm goes backwards"):
        analyze_csv(ANALYSIS_DATA / "jvl_g1.csv", "jvl", spectrum_path=path)


def test_spectrum_in_micrometres_is_rejected_with_a_units_hint(tmp_path):
    path = tmp_path / "spec_um.csv"
    path.write_text("wavelength_nm,intensity\n0.51,0\n0.52,1\n0.53,0\n")
    with pytest.raises(AnalysisInputError, match="check the units"):
        analyze_csv(ANALYSIS_DATA / "jvl_g1.csv", "jvl", spectrum_path=path)


def test_array_summary_rejects_nan_naming_the_sample():
    with pytest.raises(AnalysisInputError, match="sample 1: luminance_cd_m2 is nan"):
        summarize_lifetime([0, 1, 2], [50, float("nan"), 40])


def test_array_summary_rejects_columns_of_different_length():
    with pytest.raises(AnalysisInputError, match="differ in length"):
        summarize_lifetime([0, 1, 2, 3], [50, 45, 40])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300), kind=st.sampled_from(["lifetime", "photostability", "jvl"]))
def test_any_bytes_give_a_summary_or_an_analysis_input_error(tmp_path, content, kind):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    try:
        r = analyze_csv(path, kind)
    except AnalysisInputError:
        return
    assert strict_json(r) == r


numbers = st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:g}")
cells = st.one_of(numbers, st.sampled_from(["", "nan", "x", "1e400", " 3 ", "-0"]))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["lifetime", "photostability", "jvl"]),
    rows=st.lists(st.lists(cells, min_size=1, max_size=4), max_size=30),
)
def test_any_table_of_numbers_gives_a_summary_or_an_analysis_input_error(tmp_path, kind, rows):
    header = {
        "lifetime": "t_s,luminance_cd_m2,extra",
        "photostability": "t_s,pl,extra",
        "jvl": "voltage_v,current_density_ma_cm2,luminance_cd_m2",
    }[kind]
    path = tmp_path / "table.csv"
    path.write_text("\n".join([header] + [",".join(r) for r in rows]))
    try:
        r = analyze_csv(path, kind)
    except AnalysisInputError:
        return
    assert strict_json(r) == r


values = st.floats(0.0, 1e5, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=60),
    data=st.data(),
)
def test_any_valid_series_gives_json_clean_summaries(steps, data):
    t = [sum(steps[: i + 1]) for i in range(len(steps))]
    y = data.draw(st.lists(values, min_size=len(t), max_size=len(t)))
    for r in (
        summarize_lifetime(t, y, extrapolate_to_cd_m2=100.0),
        summarize_photostability(t, [v + 1.0 for v in y]),
        summarize_jvl(
            t, data.draw(st.lists(st.floats(-1e3, 1e3), min_size=len(t), max_size=len(t))), y
        ),
    ):
        assert strict_json(r) == r
