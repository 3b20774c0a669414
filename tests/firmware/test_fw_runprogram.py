"""The device's own range check of START_RUN names the first offending field by index."""

import pytest

from lumenfw import runprogram
from lumenfw.limits import Limits
from lumenfw.runprogram import RunProgram
from protocol import messages, schema
from tests.support.fw_harness import start_run_head

LIMITS = Limits(max_setpoint_mv=20000, max_current_na=50000000, max_pd_pa=200000000)
FIELDS = messages.field_names(schema.START_RUN)
CV, CC, SWEEP, PHOTO = (schema.MODE_CONSTANT_VOLTAGE, schema.MODE_CONSTANT_CURRENT,
                        schema.MODE_SWEEP, schema.MODE_PHOTOSTABILITY)

VALID = {
    "constant_voltage": {},
    "luminance_target": {"target_pd_pa": 500000, "step_mv": 100, "dwell_ms": 500},
    "fast_ramp": {"target_pd_pa": 500000, "step_mv": 100, "dwell_ms": 50,
                  "sample_period_ms": 1000},
    "constant_current": {"mode": CC, "target_current_na": 1000000, "setpoint_mv": 8000},
    "sweep": {"mode": SWEEP, "setpoint_mv": 0, "stop_mv": 8000, "step_mv": 200,
              "dwell_ms": 500, "stop_fraction_pm": 0},
    "sweep_down": {"mode": SWEEP, "setpoint_mv": 8000, "stop_mv": 2000, "step_mv": 200,
                   "dwell_ms": 500},
    "photostability": {"mode": PHOTO, "setpoint_mv": 0, "compliance_na": 0, "laser": 1,
                       "pl_interval_s": 300, "max_duration_s": 7200},
    "resumed": {"resume_seq": 1234, "resume_t_ms": 123400, "l0_pd_pa": 40000},
}

# (case, field that is wrong, overrides on top of the case)
INVALID = [
    ("constant_voltage", "run_key", {"run_key": 0}),
    ("constant_voltage", "mode", {"mode": 0}),
    ("constant_voltage", "mode", {"mode": 5}),
    ("constant_voltage", "setpoint_mv", {"setpoint_mv": 20001}),
    ("constant_voltage", "setpoint_mv", {"setpoint_mv": 0}),
    ("sweep", "stop_mv", {"stop_mv": 25000}),
    ("sweep", "stop_mv", {"stop_mv": 0}),
    ("sweep", "step_mv", {"step_mv": 0}),
    ("sweep", "step_mv", {"step_mv": 1}),
    ("luminance_target", "step_mv", {"step_mv": 0}),
    ("luminance_target", "target_pd_pa", {"target_pd_pa": 200000001}),
    ("constant_voltage", "dark_pd_pa", {"dark_pd_pa": -200000001}),
    ("constant_current", "target_current_na", {"target_current_na": 0}),
    ("constant_current", "target_current_na", {"target_current_na": 50000001}),
    ("constant_voltage", "compliance_na", {"compliance_na": 50000001}),
    ("constant_current", "compliance_na", {"compliance_na": 1000000}),
    ("constant_voltage", "sample_period_ms", {"sample_period_ms": 9}),
    ("constant_voltage", "sample_period_ms", {"sample_period_ms": 3600001}),
    ("sweep", "dwell_ms", {"dwell_ms": 99}),
    ("luminance_target", "dwell_ms", {"dwell_ms": 600001}),
    ("luminance_target", "dwell_ms", {"dwell_ms": 9}),
    ("constant_voltage", "oversample", {"oversample": 0}),
    ("constant_voltage", "oversample", {"oversample": 17}),
    ("constant_voltage", "stop_fraction_pm", {"stop_fraction_pm": 1001}),
    ("constant_voltage", "l0_settle_ms", {"l0_settle_ms": 3600001}),
    ("photostability", "max_duration_s", {"max_duration_s": 0}),
    ("constant_voltage", "max_duration_s", {"max_duration_s": 30 * 24 * 3600 + 1}),
    ("constant_voltage", "host_loss_grace_ms", {"host_loss_grace_ms": 999}),
    ("constant_voltage", "host_loss_grace_ms", {"host_loss_grace_ms": 86400001}),
    ("photostability", "pl_interval_s", {"pl_interval_s": 0}),
    ("photostability", "pl_interval_s", {"pl_interval_s": 7201}),
    ("constant_voltage", "laser", {"laser": 2}),
    ("resumed", "resume_seq", {"resume_seq": 0xFFFFFFF0}),  # would wrap to 0 on the wire
    ("resumed", "resume_seq", {"resume_seq": 0xFFFFFFFF - 3000, "max_duration_s": 3600,
                               "sample_period_ms": 1000}),
    ("resumed", "resume_t_ms", {"resume_t_ms": 3_600_000, "max_duration_s": 3599}),
    ("resumed", "l0_pd_pa", {"l0_pd_pa": -1}),
    ("resumed", "l0_pd_pa", {"l0_pd_pa": 200000001}),
]


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_programs_pass(case):
    assert runprogram.check(RunProgram(start_run_head(**VALID[case])), LIMITS) == runprogram.OK


@pytest.mark.parametrize("case,field,overrides", INVALID,
                         ids=[f"{c}-{f}-{i}" for i, (c, f, _) in enumerate(INVALID)])
def test_out_of_range_field_is_named_by_its_index(case, field, overrides):
    head = start_run_head(**dict(VALID[case], **overrides))
    assert runprogram.check(RunProgram(head), LIMITS) == FIELDS.index(field)


def test_a_board_without_laser_refuses_laser_on():
    limits = Limits(max_setpoint_mv=20000, max_current_na=50000000, max_pd_pa=200000000,
                    has_laser=False)
    head = start_run_head(**VALID["photostability"])
    assert runprogram.check(RunProgram(head), limits) == FIELDS.index("laser")


def test_field_indexes_count_cmd_id_as_zero():
    assert runprogram.F_RUN_KEY == 1 and FIELDS[0] == "cmd_id"
    assert runprogram.FIELDS == FIELDS


def test_program_attributes_are_the_schema_fields():
    head = start_run_head(**{name: 100 + i for i, name in enumerate(FIELDS)})
    program = RunProgram(head)
    assert {name: getattr(program, name) for name in FIELDS} == dict(zip(FIELDS, head))


# The shortest periods lumenfw/budget.py gives on the board's bus (400 kHz) and photodiode
# rate (860 SPS): a sample costs 6.7 ms at oversample 4, 13.0 ms at 8 and 25.5 ms at 16; they may
# take 80 % of their period, on every channel of the board together.
@pytest.mark.parametrize("channels, oversample, least_ms", [
    (1, 8, 17), (1, 16, 32), (8, 4, 68), (8, 16, 256)])
def test_a_period_its_samples_would_overrun_is_refused_naming_the_period(channels, oversample,
                                                                         least_ms):
    limits = Limits(max_setpoint_mv=20000, max_current_na=50000000, max_pd_pa=200000000,
                    channels=channels)
    assert limits.min_period_ms(oversample) == least_ms
    at = RunProgram(start_run_head(sample_period_ms=least_ms, oversample=oversample))
    below = RunProgram(start_run_head(sample_period_ms=least_ms - 1, oversample=oversample))
    assert runprogram.check(at, limits) == runprogram.OK
    assert runprogram.check(below, limits) == FIELDS.index("sample_period_ms")
