"""Simulated ADS1115 with the photodiode's transimpedance amplifier (TIA) in front of one input."""

from hil_sim.chips.register_chip import RegisterChip, to_u16

_CONFIG_DEFAULT = 0x8583  # datasheet 9.6.3: idle, AIN0-AIN1, +-2.048 V, single-shot, 128 SPS
_FULL_SCALE_UV = (6_144_000, 4_096_000, 2_048_000, 1_024_000, 512_000, 256_000, 256_000,
                  256_000)
_RATE_SPS = (8, 16, 32, 64, 128, 250, 475, 860)
# MUX codes 0..3 are differential pairs (positive, negative input); 4..7 are AINn vs GND.
_MUX_PAIRS = ((0, 1), (0, 3), (1, 3), (2, 3), (0, -1), (1, -1), (2, -1), (3, -1))


class SimADS1115(RegisterChip):
    """Conversions take 1/DR on the experiment clock; the OS bit reads 0 meanwhile.

    Input pd_channel carries the TIA output V = I_pd * R_feedback[gain pin level], clipped
    at +-rail_mv; the other inputs are grounded.  A code is V / (full scale / 32768),
    rounded and limited to -32768..32767 (datasheet 9.3.3).  The code is taken when the
    conversion ends and cached while the bench, input and gain stay the same.
    """

    def __init__(self, source, clock, tia_pin, feedback_ohm, rail_mv, pd_channel=0):
        RegisterChip.__init__(self)
        self._source = source
        self._clock = clock
        self._tia_pin = tia_pin
        self._feedback_ohm = feedback_ohm
        self._rail_uv = rail_mv * 1000
        self._pd_channel = pd_channel
        self.config = _CONFIG_DEFAULT
        self.conversion = 0
        self.lo_thresh = 0x8000
        self.hi_thresh = 0x7FFF
        self.conversions = 0
        self._busy = False
        self._done_us = 0
        self._cache_key = -1
        self._cache_code = 0

    def conversion_us(self):
        sps = _RATE_SPS[(self.config >> 5) & 0x7]
        return (1_000_000 + sps - 1) // sps

    def _update(self):
        if self.config & 0x0100:  # single-shot
            if self._busy and self._clock.now_us() >= self._done_us:
                self._busy = False
                self.conversion = self._code()
                self.conversions += 1
        else:  # continuous: a new result every period
            now = self._clock.now_us()
            if now >= self._done_us:
                self._done_us = now + self.conversion_us()
                self.conversion = self._code()
                self.conversions += 1

    def _code(self):
        gain_level = self._tia_pin.value()
        mux = (self.config >> 12) & 0x7
        pga = (self.config >> 9) & 0x7
        source = self._source
        key = ((source.epoch * 8 + mux) * 8 + pga) * 2 + gain_level
        if key == self._cache_key:
            return self._cache_code
        pair = _MUX_PAIRS[mux]
        volts_uv = self._input_uv(pair[0], gain_level)
        if pair[1] >= 0:
            volts_uv -= self._input_uv(pair[1], gain_level)
        lsb_uv = _FULL_SCALE_UV[pga] / 32768
        code = int(volts_uv / lsb_uv + 0.5) if volts_uv >= 0 else -int(-volts_uv / lsb_uv + 0.5)
        code = -32768 if code < -32768 else min(code, 32767)
        self._cache_key = key
        self._cache_code = code
        return code

    def _input_uv(self, channel, gain_level):
        if channel != self._pd_channel:
            return 0
        volts_uv = self._source.photocurrent_a() * self._feedback_ohm[gain_level] * 1_000_000
        rail = self._rail_uv
        return -rail if volts_uv < -rail else min(volts_uv, rail)

    def read_register(self, ptr):
        ptr &= 0x3
        self._update()
        if ptr == 0:
            return to_u16(self.conversion)
        if ptr == 1:
            return (self.config & 0x7FFF) | (0 if self._busy else 0x8000)
        if ptr == 2:
            return self.lo_thresh
        return self.hi_thresh

    def write_register(self, ptr, value):
        ptr &= 0x3
        if ptr == 1:
            self._update()
            self.config = value & 0x7FFF
            if value & 0x0100:
                if value & 0x8000 and not self._busy:  # OS = 1 starts a single conversion
                    self._busy = True
                    self._done_us = self._clock.now_us() + self.conversion_us()
            else:
                self._busy = False
                self._done_us = self._clock.now_us() + self.conversion_us()
        elif ptr == 2:
            self.lo_thresh = value
        elif ptr == 3:
            self.hi_thresh = value
        else:
            raise OSError(5)  # the conversion register is read-only
