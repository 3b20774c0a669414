"""A simulated board with channel cards: each pixel behind its own card, reached through the
mux with the firmware's drivers; a card's relay needs the rig-wide enable; pixels of a
substrate vary by `spread` (real physics, CPython and the MicroPython VM)."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_CARDS = """
from hil_sim.physics.bench import Bench
from lumenfw.drivers.pca9554 import PCA9554, ExpanderPin
from lumenfw.drivers.tca9548a import TCA9548A, CardI2C

CHANNELS = 3


def card_board(spread=0.0, seed=4):
    benches = [Bench("G1", seed, 2e-9, channel=n, spread=spread) for n in range(CHANNELS)]
    board = SimBoard(benches[0], accel=None, cards=benches)
    mux = TCA9548A(board.i2c, cfg.ADDR_MUX)
    parts = []
    for n in range(CHANNELS):
        bus = CardI2C(board.i2c, mux, n)
        io = PCA9554(bus, cfg.ADDR_CARD_IO)
        io.configure(1 << cfg.CARD_IO_ALERT, 0)
        ina = INA226(bus, cfg.ADDR_INA226, cfg.INA226_CAL, cfg.INA226_CURRENT_LSB_NA,
                     cfg.INA226_CONFIG)
        ina.configure()
        parts.append({"dac": MCP4725(bus, cfg.ADDR_DAC), "ina": ina,
                      "relay": ExpanderPin(io, cfg.CARD_IO_RELAY, True),
                      "gain": ExpanderPin(io, cfg.CARD_IO_TIA_GAIN, True)})
    return benches, board, mux, parts


def settle(board):
    board.sleep_us(100_000)  # the supply slews, the INA226 averages


def current_a(board, channel):
    # The pixel's true current now (through its source: the bench brought to the clock).
    return board.cards[channel].source.dut_current_a()
"""


def test_each_card_drives_and_reads_its_own_pixel_only():
    run_both(_CARDS, """
    benches, board, mux, parts = card_board()
    board.relay.value(1)  # the rig-wide enable
    parts[1]["dac"].write_code(dac_code(10000, cfg))
    parts[1]["relay"].value(1)
    settle(board)
    currents = [p["ina"].read_current_na() for p in parts]
    assert currents[0] == 0 and currents[2] == 0, currents
    expected_na = current_a(board, 1) * 1e9
    assert abs(currents[1] - expected_na) <= 2 * cfg.INA226_CURRENT_LSB_NA, (currents, expected_na)
    assert abs(parts[1]["ina"].read_bus_mv() - 10000) < 50
    assert benches[1].luminance_cd_m2() > 40 and benches[0].luminance_cd_m2() == 0
    assert current_a(board, 0) == 0
    assert not board.cards[1].source.bench_dark() and board.cards[2].source.bench_dark()
    """)


def test_the_enable_pin_opens_every_cards_relay_whatever_the_expanders_hold():
    run_both(_CARDS, """
    benches, board, mux, parts = card_board()
    for p in parts:
        p["dac"].write_code(dac_code(8000, cfg))
        p["relay"].value(1)
    settle(board)
    assert all(current_a(board, n) == 0 for n in range(CHANNELS)), "no enable: no relay closes"
    board.relay.value(1)
    settle(board)
    assert all(current_a(board, n) > 1e-6 for n in range(CHANNELS))
    board.i2c.fail(cfg.ADDR_MUX, 5)  # the bus is gone: no expander can be written
    board.relay.value(0)
    settle(board)
    assert all(current_a(board, n) == 0 for n in range(CHANNELS)), "the pin alone opened them"
    """)


def test_a_reset_expander_lets_its_relay_open_and_its_gain_fall_back():
    run_both(_CARDS, """
    benches, board, mux, parts = card_board()
    board.relay.value(1)
    parts[2]["dac"].write_code(dac_code(8000, cfg))
    parts[2]["relay"].value(1)
    parts[2]["gain"].value(1)
    assert board.cards[2].tia_gain.value() == 1
    settle(board)
    assert current_a(board, 2) > 1e-6
    board.cards[2].io.mem_write(3, b"\\xff")  # every pin an input, as after its power-on
    settle(board)
    assert current_a(board, 2) == 0 and board.cards[2].tia_gain.value() == 0
    """)


def test_a_cards_alert_pulls_the_shared_line_and_its_own_input_low():
    run_both(_CARDS, """
    benches, board, mux, parts = card_board()
    board.relay.value(1)
    ina = parts[1]["ina"]
    ina.arm_alert(20_000)
    parts[1]["dac"].write_code(dac_code(10000, cfg))  # about 36 uA on G1
    assert board.ina_alert.value() == 1
    parts[1]["relay"].value(1)
    settle(board)
    assert board.ina_alert.value() == 0, "the INT line"
    alert = ExpanderPin(PCA9554(CardI2C(board.i2c, mux, 1), cfg.ADDR_CARD_IO),
                        cfg.CARD_IO_ALERT, False)
    assert alert.value() == 0
    """)


def test_pixels_of_a_substrate_vary_by_the_spread_and_the_first_is_the_rigs_own_at_zero():
    run_both(_CARDS, """
    plain = Bench("G1", 4, 2e-9)
    assert Bench("G1", 4, 2e-9, channel=0, spread=0.0).t50_at_s(10.0) == plain.t50_at_s(10.0)
    assert abs(plain.t50_at_s(10.0) - 630) < 1
    same = [Bench("G1", 4, 2e-9, channel=n, spread=0.05).t50_at_s(10.0) for n in range(8)]
    again = [Bench("G1", 4, 2e-9, channel=n, spread=0.05).t50_at_s(10.0) for n in range(8)]
    other = [Bench("G1", 5, 2e-9, channel=n, spread=0.05).t50_at_s(10.0) for n in range(8)]
    assert same == again and same != other
    assert len(set(same)) == 8 and all(300 < t < 1300 for t in same), same
    flat = [Bench("G1", 4, 2e-9, channel=n).t50_at_s(10.0) for n in range(3)]
    assert flat[0] == flat[1] == flat[2], "spread 0: one pixel, several noise seeds"
    try:
        Bench("G1", 4, 2e-9, channel=1, spread=0.6)
    except ValueError:
        pass
    else:
        raise AssertionError("spread 0.6 accepted")
    """)


def test_the_state_file_keeps_every_cards_pixel_and_a_replaced_one_comes_back_fresh(tmp_path):
    from hil_sim.board import SimBoard, forget_pixel, load_state
    from hil_sim.physics.bench import Bench
    from lumenfw import board_config as cfg
    from lumenfw.board import dac_code
    from lumenfw.cards import build_cards

    path = str(tmp_path / "state.json")
    benches = [Bench("G1", 4, 2e-9, channel=n) for n in range(3)]
    board = SimBoard(benches[0], accel=None, cards=benches, state_path=path)
    cards = build_cards(board, 3)
    for card in cards:
        card.setup()
    board.relay.value(1)
    for n in (1, 2):
        cards[n].dac.write_code(dac_code(10000, cfg))
        cards[n].relay.value(1)
    board.sleep_us(60_000_000)  # a lit minute: pixels 1 and 2 age, 0 stays dark
    board._persist(True)
    state = load_state(path)
    assert len(state["cards"]) == 2 and state["bench"] is not None
    restored = [Bench("G1", 4, 2e-9, channel=n) for n in (1, 2)]
    for bench, snapshot in zip(restored, state["cards"]):
        bench.restore(snapshot)
    fresh = Bench("G1", 4, 2e-9, channel=2)
    assert restored[1].snapshot() == benches[2].snapshot() != fresh.snapshot()
    forget_pixel(path, 2)
    state = load_state(path)
    assert state["cards"][1] is None and state["cards"][0] is not None
    assert state["bench"] is not None, "the other pixels stay"
