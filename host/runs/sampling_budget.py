"""A run's sample period against the board's sampling budget (lumenfw/budget.py), checked
before the run is recorded, so a refusal names the budget in numbers; the board checks the
same rule again on START_RUN.

The costs are the reference board's (lumenfw/board_config.py: its I2C clock, the ADS1115's
data rate); the number of channels is what the rig's board reports.
"""

from typing import Any

from host.rigs import Rig
from host.runs.errors import RunError
from lumenfw import board_config, budget
from lumenfw.drivers.ads1115 import RATE_SPS


def check_budget(rig: Rig, fields: dict[str, Any]) -> None:
    """RunError 422 when the run's sample period is shorter than the budget allows for its
    oversampling on every channel of the rig's board."""
    channels = len(rig.link.channel_can) if rig.link is not None and rig.link.channel_can else 1
    period_ms = fields["sample_period_ms"]
    oversample = fields["oversample"]
    least_ms = budget.min_period_ms(oversample, channels, board_config.I2C_FREQ_HZ,
                                    RATE_SPS[board_config.ADS_PD_RATE_INDEX])
    if period_ms >= least_ms:
        return
    sample_ms = budget.sample_cost_us(oversample, board_config.I2C_FREQ_HZ,
                                      RATE_SPS[board_config.ADS_PD_RATE_INDEX]) / 1000
    raise RunError(422, (
        "rig %s: a sample every %d ms is beyond the board's sampling budget: a sample at "
        "oversample %d takes %.1f ms on each of its %d channel%s, and the samples may take "
        "%d %% of the period, so sample_period_s must be at least %.3f (or lower oversample)")
        % (rig.name, period_ms, oversample, sample_ms, channels, "s" if channels > 1 else "",
           budget.BUDGET_PERCENT, least_ms / 1000))
