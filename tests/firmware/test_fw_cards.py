"""The firmware's channel cards (lumenfw/cards.py) on a simulated board with three pixels:
each card drives and reads its own pixel through the mux, and all_safe opens every relay
even when the bus is gone (real physics, CPython and the MicroPython VM)."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_BOARD = """
from hil_sim.physics.bench import Bench
from lumenfw.cards import all_safe, build_cards

CHANNELS = 3


def card_board():
    benches = [Bench("G1", 6, 2e-9, channel=n) for n in range(CHANNELS)]
    board = SimBoard(benches[0], accel=None, cards=benches)
    cards = build_cards(board, CHANNELS)
    for card in cards:
        card.setup()
    return board, cards


def current_a(board, channel):
    return board.cards[channel].source.dut_current_a()
"""


def test_setup_leaves_every_relay_open_and_each_card_drives_only_its_pixel():
    run_both(_BOARD, """
    board, cards = card_board()
    board.relay.value(1)
    board.sleep_us(50_000)
    assert all(current_a(board, n) == 0 for n in range(CHANNELS)), "set up: all open"
    cards[2].dac.write_code(dac_code(10000, cfg))
    cards[2].relay.value(1)
    board.sleep_us(100_000)
    assert current_a(board, 2) > 1e-6 and current_a(board, 0) == current_a(board, 1) == 0
    assert abs(cards[2].ina.read_bus_mv() - 10000) < 50
    assert cards[0].ina.read_current_na() == 0
    lit_pa = cards[2].photodiode.read_pa(4)
    dark_pa = cards[1].photodiode.read_pa(4)
    assert lit_pa > 100 * max(dark_pa, 1), (lit_pa, dark_pa)
    assert cards[2].photodiode.range_index > cards[1].photodiode.range_index
    """)


def test_all_safe_opens_every_relay_even_with_the_bus_gone_and_says_how_many_failed():
    run_both(_BOARD, """
    board, cards = card_board()
    board.relay.value(1)
    for card in cards:
        card.dac.write_code(dac_code(9000, cfg))
        card.relay.value(1)
    board.sleep_us(100_000)
    assert all(current_a(board, n) > 1e-6 for n in range(CHANNELS))
    board.i2c.fail(cfg.ADDR_MUX, 5)
    assert all_safe(board, cards) == CHANNELS
    board.sleep_us(10_000)
    assert all(current_a(board, n) == 0 for n in range(CHANNELS)), "the enable pin alone"
    board.i2c.fail(cfg.ADDR_MUX, 0)
    assert all_safe(board, cards) == 0
    assert all(card.dac.read_code() == 0 and card.relay.value() == 0 for card in cards)
    """)
