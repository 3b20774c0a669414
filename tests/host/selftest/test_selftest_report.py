"""The host's reading of a self-test: checks in words, the result a rig keeps (a quick test
never forgets the full test's shutter), and which runs it refuses."""

from host.link import wire
from host.runs.kinds import KINDS
from host.selftest import checks, report
from lumenfw import board_config
from protocol import messages, schema

PASS, FAIL, SKIPPED = schema.CHECK_PASS, schema.CHECK_FAIL, schema.CHECK_SKIPPED
BOARD = 0x1234
ALL_CHIPS = 0xF


def _result(records, scope=schema.SELFTEST_FULL, fault=0, at="t1", board=BOARD, channel=0):
    failed = sum(1 for r in records if r[1] == FAIL)
    body = messages.pack(schema.SELF_TEST_RESULT, (1, channel, scope, failed, fault), records)
    return report.result_dict("rig1", board, wire.decode(schema.SELF_TEST_RESULT, body), at)


def _healthy_full():
    return [(schema.CHK_I2C_SCAN, PASS, 0, ALL_CHIPS, ALL_CHIPS, ALL_CHIPS),
            (schema.CHK_INA226_MANUFACTURER, PASS, 0, 0x5449, 0x5449, 0x5449),
            (schema.CHK_SHUTTER_OPEN, PASS, 0, 50, 0, 500),
            (schema.CHK_SHUTTER_CLOSE, PASS, 0, 51, 0, 500)]


def test_every_check_of_the_schema_has_words_a_unit_and_advice():
    ids = [schema.CHK_I2C_SCAN, schema.CHK_INA226_MANUFACTURER, schema.CHK_INA226_DIE,
           schema.CHK_SHT31_STATUS, schema.CHK_SHT31_SERIAL, schema.CHK_DAC_READBACK,
           schema.CHK_ADS1115_CONFIG, schema.CHK_INTERLOCK, schema.CHK_SUPPLY_OFFSET,
           schema.CHK_SHUTTER_OPEN, schema.CHK_SHUTTER_CLOSE]
    ids += [schema.CHK_DARK_RANGE + i for i in range(len(board_config.PD_RANGES))]
    assert sorted(checks.CHECKS) == sorted(ids)
    keys = [check.key for check in checks.CHECKS.values()]
    assert len(set(keys)) == len(keys)
    for check in checks.CHECKS.values():
        assert check.name and check.advice and check.parts, check.key


def test_a_failed_check_reads_as_words_with_its_advice():
    result = _result([(schema.CHK_INA226_MANUFACTURER, FAIL, 0, 0xFFFF, 0x5449, 0x5449)])
    [check] = result["checks"]
    assert (check["id"], check["state"], check["passed"]) == ("ina226_manufacturer", "fail",
                                                              False)
    assert (check["value"], check["limit"]) == ("0xffff", "0x5449 (TI)")
    assert "A0/A1" in check["advice"]
    assert result["passed"] is False and result["failed"] == ["ina226_manufacturer"]


def test_a_chip_that_does_not_answer_has_no_value_and_says_so():
    result = _result([(schema.CHK_SHT31_SERIAL, FAIL, schema.DETAIL_NO_ANSWER, 19, 0, 0)])
    [check] = result["checks"]
    assert check["value"] is None and check["detail"] == "no answer on the I2C bus (errno 19)"


def test_the_scan_names_the_missing_chip_and_vouches_only_for_it():
    found = ALL_CHIPS & ~schema.I2C_BIT_SHT31
    [check] = _result([(schema.CHK_I2C_SCAN, FAIL, 0, found, ALL_CHIPS, ALL_CHIPS)])["checks"]
    assert check["detail"] == "no answer from SHT31 0x%02x" % board_config.ADDR_SHT31
    assert check["parts"] == [checks.SHT31]


def test_advice_names_the_rig_to_test_again():
    [check] = _result([(schema.CHK_SHUTTER_OPEN, FAIL, schema.DETAIL_TIMEOUT, 500, 0, 500)]
                      )["checks"]
    assert "`lumenrig selftest rig1`" in check["advice"]


def test_a_skipped_check_neither_passes_nor_fails():
    result = _result([(schema.CHK_SHUTTER_OPEN, SKIPPED, schema.DETAIL_INTERLOCK_OPEN, 0, 0,
                       500)])
    [check] = result["checks"]
    assert check["passed"] is None and "interlock" in check["advice"]
    assert result["passed"] is True


def test_a_fault_that_ended_the_test_early_fails_it():
    result = _result(_healthy_full()[:2], fault=schema.FAULT_SOFTWARE)
    assert result["passed"] is False and result["failed"] == ["self_test"]
    assert "software" in result["checks"][-1]["detail"]


def test_a_quick_test_keeps_the_full_tests_shutter_result_of_the_same_board():
    broken = _healthy_full()
    broken[2] = (schema.CHK_SHUTTER_OPEN, FAIL, schema.DETAIL_TIMEOUT, 500, 0, 500)
    full = _result(broken, at="t1")
    quick = _result(_healthy_full()[:2], scope=schema.SELFTEST_QUICK, at="t2")
    kept = report.merged(full, quick)
    by_id = {c["id"]: c for c in kept["checks"]}
    assert by_id["shutter_open"]["state"] == "fail" and by_id["shutter_open"]["at"] == "t1"
    assert by_id["i2c_scan"]["at"] == "t2"
    assert kept["passed"] is False and kept["failed"] == ["shutter_open"]


def test_another_boards_result_is_not_kept():
    full = _result(_healthy_full(), board=1)
    quick = _result(_healthy_full()[:1], scope=schema.SELFTEST_QUICK, board=2)
    assert report.merged(full, quick) == quick


def test_a_broken_shutter_refuses_photostability_only():
    broken = _healthy_full()
    broken[3] = (schema.CHK_SHUTTER_CLOSE, FAIL, schema.DETAIL_TIMEOUT, 500, 0, 500)
    kept = _result(broken)
    why = report.refusal(kept, KINDS["photostability"].parts, "rig1 cannot", BOARD)
    assert why is not None and "shutter travel, closing" in why and "limit ≤ 500 ms" in why
    assert report.refusal(kept, KINDS["lifetime"].parts, "rig1 cannot", BOARD) is None
    assert report.refusal(kept, KINDS["jvl"].parts, "rig1 cannot", BOARD) is None


def test_a_missing_sht31_refuses_no_run():
    found = ALL_CHIPS & ~schema.I2C_BIT_SHT31
    kept = _result([(schema.CHK_I2C_SCAN, FAIL, 0, found, ALL_CHIPS, ALL_CHIPS),
                    (schema.CHK_SHT31_STATUS, FAIL, schema.DETAIL_NO_ANSWER, 19, 0, 3)])
    for kind in KINDS.values():
        assert report.refusal(kept, kind.parts, "x", BOARD) is None


def test_a_missing_dac_refuses_every_run_naming_it():
    found = ALL_CHIPS & ~schema.I2C_BIT_DAC
    kept = _result([(schema.CHK_I2C_SCAN, FAIL, 0, found, ALL_CHIPS, ALL_CHIPS)])
    for kind in KINDS.values():
        why = report.refusal(kept, kind.parts, "rig1 cannot start", BOARD)
        assert why is not None and "no answer from MCP4725 DAC 0x60" in why


def test_a_result_of_another_board_refuses_nothing():
    kept = _result([(schema.CHK_INA226_DIE, FAIL, 0, 0xFFFF, 0x2260, 0x2260)], board=1)
    assert report.refusal(kept, KINDS["lifetime"].parts, "x", 2) is None
    assert report.refusal(kept, KINDS["lifetime"].parts, "x", 1) is not None


CARD_CHIPS = (schema.I2C_BIT_MUX | schema.I2C_BIT_DAC | schema.I2C_BIT_INA226
              | schema.I2C_BIT_ADS1115 | schema.I2C_BIT_CARD_IO)


def _card_board(dead_card=2):
    """A board of three cards, tested a channel at a time; card dead_card's INA226 gone."""
    kept = None
    for channel in range(3):
        found = CARD_CHIPS & ~(schema.I2C_BIT_INA226 if channel == dead_card else 0)
        records = [(schema.CHK_I2C_SCAN, PASS if found == CARD_CHIPS else FAIL, 0, found,
                    CARD_CHIPS, CARD_CHIPS)]
        if channel == 0:
            records.append((schema.CHK_SHUTTER_OPEN, PASS, 0, 50, 0, 500))
        kept = report.merged(kept, _result(records, channel=channel))
    return kept


def test_each_channels_checks_are_kept_apart_and_refuse_runs_on_that_channel_only():
    kept = _card_board()
    assert [(c["channel"], c["id"]) for c in kept["checks"]] == [
        (0, "i2c_scan"), (0, "shutter_open"), (1, "i2c_scan"), (2, "i2c_scan")]
    why = report.refusal(kept, KINDS["lifetime"].parts, "rig rig1 channel 2 cannot start",
                         BOARD, channel=2)
    assert why is not None and "every chip answers its address on channel 2:" in why
    assert "(no answer from INA226 0x40)" in why
    for channel in (0, 1):
        assert report.refusal(kept, KINDS["lifetime"].parts, "x", BOARD, channel) is None
    quick = _result([(schema.CHK_I2C_SCAN, PASS, 0, CARD_CHIPS, CARD_CHIPS, CARD_CHIPS)],
                    scope=schema.SELFTEST_QUICK, at="t2", channel=2)
    healed = report.merged(kept, quick)
    assert healed["passed"] and len(healed["checks"]) == 4, "channel 2's scan replaced only"


def test_a_missing_mux_refuses_runs_on_every_channel():
    found = CARD_CHIPS & ~schema.I2C_BIT_MUX
    kept = _result([(schema.CHK_I2C_SCAN, FAIL, 0, found, CARD_CHIPS, CARD_CHIPS)])
    for channel in (0, 5):
        why = report.refusal(kept, KINDS["jvl"].parts, "x", BOARD, channel)
        assert why is not None and "TCA9548A mux 0x70" in why
