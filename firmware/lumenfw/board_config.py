"""The reference "pico" board's facts: pins, I2C addresses, full scales, shunt, ranges, limits."""

NAME = "pico"

# I2C bus 0 on GP4/GP5 (Pico pins 6/7), 400 kHz fast mode.
I2C_ID = 0
PIN_SDA = 4
PIN_SCL = 5
I2C_FREQ_HZ = 400_000

ADDR_DAC = 0x60  # MCP4725, A0 low
ADDR_INA226 = 0x40  # A0 = A1 = GND
ADDR_ADS1115 = 0x48  # ADDR = GND
ADDR_SHT31 = 0x44  # ADDR = GND
# Channel cards (docs/hardware.md "Channel cards"): a rig of several pixels has up to
# MAX_CHANNELS cards behind a TCA9548A on this bus; each card carries its own MCP4725, INA226
# and ADS1115 at the addresses above, on its own downstream bus, and a PCA9554 for its relay,
# TIA gain and ALERT. A one-channel rig has no mux: its chips sit on this bus.
ADDR_MUX = 0x70  # TCA9548A, A0 = A1 = A2 = GND; downstream bus n = card n
ADDR_CARD_IO = 0x20  # PCA9554 on each card, A0 = A1 = A2 = GND (behind the mux)
MAX_CHANNELS = 8
CARD_COUNT = 0  # cards fitted (1..MAX_CHANNELS); 0 = the one-channel board, chips on this bus
CARD_IO_RELAY = 0  # card expander output: 1 = this card's relay closed, if PIN_RELAY allows
CARD_IO_TIA_GAIN = 1  # card expander output: level = index into TIA_FEEDBACK_OHM
CARD_IO_ALERT = 7  # card expander input: the card INA226's ALERT, 0 = compliance reached

# GPIO. Outputs start low; every low level is the safe state.
PIN_RELAY = 10  # 1 = DUT output relay closed (supply connected); with cards: all cards' enable
PIN_LASER = 11  # 1 = 442 nm laser enabled
HAS_LASER = True  # a laser is fitted: photostability runs (HELLO_ACK CAP_LASER)
PIN_SHUTTER = 12  # 1 = shutter driven open; 0 = driven closed (de-energised closes)
PIN_TIA_GAIN = 13  # level = index into TIA_FEEDBACK_OHM
PIN_STATUS_LED = 25  # the Pico's own LED
PIN_SHUTTER_CLOSED = 14  # input, pull-down: 1 = the closed switch is made
PIN_INTERLOCK = 15  # input, pull-down: 1 = loop closed = safe; a broken wire reads open
PIN_INA_ALERT = 16  # input, pull-up: INA226 ALERT (open drain, latched); 0 = compliance reached
PIN_SAFE_BOOT = 22  # input, pull-up: jumper to GND = do not start the firmware (keep the REPL)
PIN_CARD_INT = 17  # input, pull-up: the cards' PCA9554 INT outputs, wired-OR; 0 = one changed

SHUTTER_OPEN_LEVEL = 1
SHUTTER_TIMEOUT_MS = 500  # the closed switch must change within this after a drive change

WATCHDOG_MS = 4000  # rp2 hardware maximum is 8388 ms
# The loop sleeps until its next due event.  The interlock opening and the INA226's ALERT
# end a wait at once (pin interrupts; the board looks at their flag every SAFETY_SLICE_MS
# while it waits on the USB input), so no pass is spent looking at them in between.
SAFETY_SLICE_MS = 2
IDLE_MAX_MS = 250  # the longest single wait of the loop (the watchdog is fed every pass)
# ...and during a run, counted in experiment time, where it runs apart from the link's (an
# unpaced simulator): the ambient sensor's readings ride on the passes, so this is the
# oldest one a sample takes.
IDLE_MAX_RUN_MS = 10_000
# A pass for the link (the host wrote, a heartbeat is due) never starts this close before
# the next due sample or step: it would push that pass back by its own length.  The link
# work then waits for the due pass instead (at most this long).
WAKE_GUARD_US = 3000

# Supply: MCP4725 code 0..4095 -> 0..DAC_FULL_SCALE_MV at the DUT through the amplifier
# (MCP4725 datasheet eq. 4-1: Vout = Vref * code / 4096).
DAC_BITS = 12
DAC_FULL_SCALE_MV = 20_000
MAX_SETPOINT_MV = 19_995  # code 4095

# INA226 with a 20 ohm shunt: the shunt register's 81.92 mV full scale is 4.096 mA.
# Current LSB 125 nA; CAL = 0.00512 / (current_lsb * R_shunt) = 2048 (INA226 datasheet eq. 1).
SHUNT_MOHM = 20_000
INA226_CURRENT_LSB_NA = 125
INA226_CAL = 2048
# Config: AVG=4 (001), VBUSCT=1.1 ms (100), VSHCT=1.1 ms (100), continuous shunt+bus (111):
# one averaged result every 4 * (1.1 + 1.1) ms = 8.8 ms.
INA226_CONFIG = 0x4000 | (0b001 << 9) | (0b100 << 6) | (0b100 << 3) | 0b111
INA226_PERIOD_US = 8_800  # the averaging period of INA226_CONFIG
MAX_COMPLIANCE_NA = 4_000_000  # the most a run may ask; below the 4.096 mA full scale

# Setpoint climb (lumenfw/climb.py): up-steps sized so that the current reaches at most 90 % of
# the compliance in a DUT whose current grows e-fold per CLIMB_MV_PER_NEPER or slower (4 per
# volt; the simulated G1 pixel's steepest is 1.75 per volt), each held until an INA226 result
# lies wholly after the output settled: the soft start's 5 time constants (24 ms, 10 kohm x
# 470 nF) and two averaging periods.
CLIMB_MV_PER_NEPER = 250
CLIMB_MIN_STEP_MV = 5  # one DAC code (4.9 mV): the creep between 90 % and 100 % of the limit
CLIMB_MAX_STEP_MV = 2_000
CLIMB_HOLD_US = 24_000 + 2 * INA226_PERIOD_US

# Photodiode transimpedance amplifier (TIA) in front of ADS1115 input AIN0.
TIA_FEEDBACK_OHM = (10_000_000, 100_000)  # index = PIN_TIA_GAIN level
TIA_RAIL_MV = 4_800  # the TIA output (5 V analogue supply) clips here
ADS_PD_CHANNEL = 0
ADS_PD_RATE_INDEX = 7  # 860 SPS: 1.163 ms per single-shot conversion

# Photodiode ranges, most sensitive first: (tia index, ADS1115 PGA index, pA per code as
# num/den).  pA per code = PGA LSB / R_feedback; PGA LSB = full scale / 32768
# (ADS1115 datasheet table 3).  Neighbours differ by at most 6.25x, so the 90 % step-up point
# of one range sits above the 8 % step-down point of the next: no flapping.
PD_RANGES = (
    (0, 5, 25, 32),  # 10 Mohm, +-0.256 V: 0.78125 pA/code, full scale 25.6 nA
    (0, 3, 25, 8),  # 10 Mohm, +-1.024 V: 3.125 pA/code, 102.4 nA
    (0, 1, 25, 2),  # 10 Mohm, +-4.096 V: 12.5 pA/code, 409.6 nA
    (1, 5, 625, 8),  # 100 kohm, +-0.256 V: 78.125 pA/code, 2.56 uA
    (1, 3, 625, 2),  # 100 kohm, +-1.024 V: 312.5 pA/code, 10.24 uA
    (1, 1, 1250, 1),  # 100 kohm, +-4.096 V: 1250 pA/code, 40.96 uA
)
PD_UP_CODE = 29_491  # 90 % of 32768: step to a less sensitive range above this
PD_DOWN_CODE = 2_621  # 8 % of 32768: step to a more sensitive range below this
PD_CLIP_CODE = 32_767  # the ADC's limit: the reading says only "at least this much"

# Run limits the controller checks START_RUN against.
MIN_SAMPLE_PERIOD_MS = 50  # 16 conversions + 2 ranging conversions + INA226 fit
MAX_OVERSAMPLE = 16

# Self-test limits (lumenfw/selftest.py).  With the output relay open the INA226 reads its own
# offset: at most 10 uV across the 20 ohm shunt (datasheet 6.5, Vos) is 500 nA, plus one LSB.
SELFTEST_CURRENT_OFFSET_NA = 625
# Dark reading of every photodiode range with all light off, plus two codes of the range:
# a photodiode's dark current is pA (the reference one 5 pA at 25 degC, 90 pA warmed by
# 30 degC); 1 nA is light getting in or an offset in the TIA.
SELFTEST_DARK_MAX_PA = 1_000

# Ring sizes (entries).
SAMPLE_RING = 512
EVENT_RING = 32
