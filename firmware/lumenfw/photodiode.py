"""Photocurrent in pA from the TIA + ADS1115, auto-ranging over the board's range table."""

from lumenfw.drivers.ads1115 import conversion_us

MAX_POLLS = 20_000  # ready() polls before a conversion counts as lost (OSError ETIMEDOUT)
_RANGING_STEPS = 3  # at most: jump to the top on a clipped reading, one re-pick, one spare


class Photodiode:
    """Owns the TIA gain pin and the ADS1115 channel of the photodiode.

    After read_pa: `range_index` is the range the reading was taken on, `saturated` is True
    when a conversion of that reading hit the ADC limit (the value is then a lower bound;
    it can persist only on the least sensitive range, since the next read ranges up).
    """

    def __init__(self, ads, tia_pin, config, sleep_us=None):
        self.ads = ads  # the ADS1115 driver (the self-test reads its config back)
        self._sleep_us = sleep_us  # waits out a conversion before polling (None: poll only)
        self._tia_pin = tia_pin
        self._ranges = config.PD_RANGES
        self._channel = config.ADS_PD_CHANNEL
        self._rate = config.ADS_PD_RATE_INDEX
        self._conversion_us = conversion_us(self._rate)
        self._up_code = config.PD_UP_CODE
        self._down_code = config.PD_DOWN_CODE
        self._clip_code = config.PD_CLIP_CODE
        self._last = len(self._ranges) - 1
        # pA at each range's step-up point: the most sensitive range whose value is below a
        # reading's pA is where that reading belongs.  Largest is ~37e6: a small int.
        self._up_pa = [self._up_code * r[2] // r[3] for r in self._ranges]
        self.range_index = 0
        self.saturated = False
        self.conversions = 0  # conversions the last read_pa took, ranging included
        self._select(0)

    def _select(self, index):
        self.range_index = index
        self._tia_pin.value(self._ranges[index][0])

    def select_range(self, index):
        """Put the TIA and the PGA on range index (read_pa ranges on from there)."""
        self._select(index)

    def read_range_pa(self, index, conversions, settle_us):
        """Mean pA of `conversions` conversions on range index, no ranging, settle_us after
        the range is selected (the self-test's dark reading of each range)."""
        self._select(index)
        if self._sleep_us is not None:
            self._sleep_us(settle_us)
        total = 0
        for _ in range(conversions):
            total += self._convert()
        entry = self._ranges[index]
        return total * entry[2] // (entry[3] * conversions)

    def _convert(self):
        ads = self.ads
        ads.start(self._channel, self._ranges[self.range_index][1], self._rate)
        if self._sleep_us is not None:
            self._sleep_us(self._conversion_us)  # the conversion's time, then usually one poll
        polls = 0
        while not ads.ready():
            polls += 1
            if polls > MAX_POLLS:
                raise OSError(110)  # ETIMEDOUT: the conversion never finished
        self.conversions += 1
        return ads.read_raw()

    def _pick(self, magnitude):
        """Most sensitive range whose step-up point lies above this reading's pA."""
        entry = self._ranges[self.range_index]
        reading_pa = magnitude * entry[2] // entry[3]
        up_pa = self._up_pa
        for i in range(self._last):
            if reading_pa < up_pa[i]:
                return i
        return self._last

    def read_pa(self, oversample):
        """Mean photocurrent in pA over `oversample` conversions on a range that fits.

        Ranging happens first (at most a few extra conversions): step up above 90 % of full
        scale, down below 8 %, jumping straight to the fitting range by estimate, and to
        the least sensitive one when the reading is clipped; the reading is always taken
        after the last range change.  Integer only, no allocation.
        """
        oversample = max(oversample, 1)
        self.conversions = 0
        code = self._convert()
        repick = False
        for _ in range(_RANGING_STEPS):
            index = self.range_index
            magnitude = code if code >= 0 else -code
            if magnitude >= self._up_code and index < self._last:
                if magnitude >= self._clip_code:
                    target = self._last
                    repick = True
                else:
                    target = self._pick(magnitude)
                    if target <= index:
                        target = index + 1
            elif magnitude < self._down_code and index > 0:
                target = self._pick(magnitude)
            elif repick:
                repick = False
                target = self._pick(magnitude)
            else:
                break
            if target == index:
                break
            self._select(target)
            code = self._convert()
        total = code
        magnitude = code if code >= 0 else -code
        saturated = magnitude >= self._clip_code
        for _ in range(oversample - 1):
            code = self._convert()
            total += code
            if code >= self._clip_code or -code >= self._clip_code:
                saturated = True
        self.saturated = saturated
        entry = self._ranges[self.range_index]
        num = entry[2]
        # mean pA = total * num / (den * oversample), split so no product passes 2**30
        whole = total // oversample
        rest = total - whole * oversample
        return (whole * num + rest * num // oversample) // entry[3]
