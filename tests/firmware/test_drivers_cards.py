"""Channel cards: the TCA9548A and PCA9554 drivers against their simulated chips - one card
joined at a time, the control byte written only when the card changes, a failed select
written again, expander outputs that never drive a level nobody asked for, and no
allocation on the paths a sample takes."""

import re

import pytest

from tests.support.drivers import PRELUDE, run_both
from tests.support.mpy import run_micropython

pytestmark = pytest.mark.micropython

_CARDS = """
from hil_sim.chips.mcp4725 import SimMCP4725
from hil_sim.chips.pca9554 import SimPCA9554
from hil_sim.chips.tca9548a import SimTCA9548A
from lumenfw.drivers.pca9554 import REG_CONFIG, REG_OUTPUT, PCA9554, ExpanderPin
from lumenfw.drivers.tca9548a import TCA9548A, CardI2C


class SetpointLog:
    def __init__(self):
        self.v = None

    def set_supply_setpoint_v(self, v):
        self.v = v


def dac_mv_of(code):
    # The supply setpoint in volts the simulated DAC gives the bench for code.
    return code * cfg.DAC_FULL_SCALE_MV // 4096 / 1000


def rig(count=3):
    # A main bus with a mux, and `count` cards each with a DAC at the same address.
    cards = [SimI2C() for _ in range(count)]
    supplies = [SetpointLog() for _ in range(count)]
    for card, supply in zip(cards, supplies):
        card.attach(cfg.ADDR_DAC, SimMCP4725(supply, cfg.DAC_FULL_SCALE_MV))
    main = SimI2C()
    mux_chip = main.attach_mux(cfg.ADDR_MUX, SimTCA9548A(cards))
    mux = TCA9548A(main, cfg.ADDR_MUX)
    return main, cards, supplies, mux_chip, mux
"""


def test_each_card_answers_at_the_shared_address_only_while_it_is_joined():
    run_both(_CARDS, """
    main, cards, supplies, mux_chip, mux = rig()
    dacs = [MCP4725(CardI2C(main, mux, n), cfg.ADDR_DAC) for n in range(3)]
    for n, dac in enumerate(dacs):
        dac.write_code(1000 * (n + 1))
    for n, dac in enumerate(dacs):
        assert dac.read_code() == 1000 * (n + 1), n
        assert supplies[n].v == dac_mv_of(1000 * (n + 1)), supplies[n].v
        assert mux_chip.control == 1 << n and mux.read_control() == 1 << n
    mux.select(TCA9548A.NONE)
    expect_oserror(lambda: main.readfrom_into(cfg.ADDR_DAC, bytearray(5)), 19)
    """)


def test_the_control_byte_is_written_only_when_the_card_changes():
    run_both(_CARDS, """
    main, cards, supplies, mux_chip, mux = rig()
    card0 = MCP4725(CardI2C(main, mux, 0), cfg.ADDR_DAC)
    card1 = MCP4725(CardI2C(main, mux, 1), cfg.ADDR_DAC)
    card0.write_code(5)
    before = main.transfers
    for i in range(10):
        card0.write_code(i)
    assert main.transfers - before == 10, "no select while the card stays joined"
    before = main.transfers
    card1.write_code(7)
    card0.write_code(8)
    assert main.transfers - before == 4, "a select, a write; a select, a write"
    """)


def test_a_select_that_failed_is_written_again_and_the_rest_of_the_bus_answers_on():
    run_both(_CARDS, """
    main, cards, supplies, mux_chip, mux = rig()
    card1 = MCP4725(CardI2C(main, mux, 1), cfg.ADDR_DAC)
    card1.write_code(100)
    main.fail(cfg.ADDR_MUX, 5)
    card2 = MCP4725(CardI2C(main, mux, 2), cfg.ADDR_DAC)
    expect_oserror(lambda: card2.write_code(200), 5)
    assert not mux.known
    main.fail(cfg.ADDR_MUX, 0)
    card1.write_code(101)  # the mux still holds card 1, but the driver no longer knows it
    assert mux_chip.control == 2 and supplies[1].v == dac_mv_of(101)
    card2.write_code(200)
    assert mux_chip.control == 4 and supplies[2].v == dac_mv_of(200)
    """)


def test_two_cards_joined_at_once_fight_and_a_card_without_the_chip_does_not_answer():
    run_both(_CARDS, """
    main, cards, supplies, mux_chip, mux = rig()
    main.writeto(cfg.ADDR_MUX, bytes([0b011]))  # not what the driver does: only by hand
    expect_oserror(lambda: main.readfrom_into(cfg.ADDR_DAC, bytearray(5)), 5)
    cards[1].fail(cfg.ADDR_DAC)
    main.readfrom_into(cfg.ADDR_DAC, bytearray(5))  # card 1's DAC is missing: card 0 alone
    mux.select(1)
    expect_oserror(lambda: main.readfrom_into(cfg.ADDR_DAC, bytearray(5)), 19)
    try:
        mux.select(8)
    except ValueError:
        pass
    else:
        raise AssertionError("channel 8 accepted")
    """)


def test_a_scan_through_a_card_sees_the_main_bus_and_that_card():
    run_both(_CARDS, """
    main, cards, supplies, mux_chip, mux = rig(2)
    main.attach(cfg.ADDR_SHT31, object())
    cards[1].attach(cfg.ADDR_CARD_IO, SimPCA9554())
    assert CardI2C(main, mux, 0).scan() == sorted([cfg.ADDR_SHT31, cfg.ADDR_MUX, cfg.ADDR_DAC])
    assert CardI2C(main, mux, 1).scan() == sorted([cfg.ADDR_SHT31, cfg.ADDR_MUX, cfg.ADDR_DAC,
                                                   cfg.ADDR_CARD_IO])
    """)


def test_expander_outputs_come_up_released_and_configure_never_drives_a_level_not_asked():
    run_both(_CARDS, """
    relay_levels = []
    gain_levels = []
    alert = [1]
    chip = SimPCA9554(outputs={cfg.CARD_IO_RELAY: relay_levels.append,
                               cfg.CARD_IO_TIA_GAIN: gain_levels.append},
                      inputs={cfg.CARD_IO_ALERT: lambda: alert[0]})
    assert relay_levels == [0] and gain_levels == [0], "inputs at power-on: the pull-downs"
    assert chip.output_port == 0xFF and chip.config == 0xFF
    bus = SimI2C()
    bus.attach(cfg.ADDR_CARD_IO, chip)
    io = PCA9554(bus, cfg.ADDR_CARD_IO)
    io.configure(1 << cfg.CARD_IO_ALERT, 0)
    assert relay_levels == [0] and gain_levels == [0], "no blip while the pins became outputs"
    assert io.read_register(REG_CONFIG) == 1 << cfg.CARD_IO_ALERT
    relay = ExpanderPin(io, cfg.CARD_IO_RELAY, True)
    gain = ExpanderPin(io, cfg.CARD_IO_TIA_GAIN, True)
    alert_pin = ExpanderPin(io, cfg.CARD_IO_ALERT, False)
    relay.value(1)
    gain.value(1)
    gain.value(1)  # the same level: no write
    assert relay_levels == [0, 1] and gain_levels == [0, 1]
    assert relay.value() == 1 and io.read_register(REG_OUTPUT) == 0b11
    relay.value(0)
    assert relay_levels == [0, 1, 0] and gain.value() == 1
    assert alert_pin.value() == 1
    alert[0] = 0
    assert alert_pin.value() == 0
    expect_oserror(lambda: alert_pin.value(1), 1)
    io.write_outputs(0xFF)
    assert io.read_inputs() & (1 << cfg.CARD_IO_ALERT) == 0, "an input reads its input"
    chip.config = 0xFF  # the card's expander reset: its pins let go
    chip.mem_write(REG_POLARITY, b"\\x00")
    assert relay_levels[-1] == 0 and gain_levels[-1] == 0
    """.replace("REG_POLARITY", "2"))


def test_a_card_transfer_and_an_expander_pin_allocate_nothing():
    body = PRELUDE + _CARDS + """
import gc
main, cards, supplies, mux_chip, mux = rig(2)
for card in cards:
    card.attach(cfg.ADDR_CARD_IO, SimPCA9554(outputs={cfg.CARD_IO_RELAY: lambda level: None}))
links = [CardI2C(main, mux, n) for n in range(2)]
dacs = [MCP4725(link, cfg.ADDR_DAC) for link in links]
ios = [PCA9554(link, cfg.ADDR_CARD_IO) for link in links]
for io in ios:
    io.configure(0x80, 0)
relays = [ExpanderPin(io, cfg.CARD_IO_RELAY, True) for io in ios]

def op():
    for n in range(2):
        dacs[n].write_code(n + 5)
        dacs[n].read_code()
        relays[n].value(1)
        relays[n].value(0)
        relays[n].value()

def measure():
    # locals only: a first assignment to a module global grows its dict (allocates)
    for i in range(20):
        op()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for i in range(1000):
        op()
    allocated = gc.mem_alloc() - before
    gc.enable()
    print("ALLOCATED", allocated)

measure()
"""
    proc = run_micropython(body)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out + proc.stderr.decode(errors="replace")
    allocated = int(re.search(r"ALLOCATED (\d+)", out).group(1))
    assert allocated == 0, "%d bytes in 1000 passes over two cards" % allocated
