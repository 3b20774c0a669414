"""A finished run's read-back and summary hold little more than the columns they read: the
service's end-of-run burst for a 10^5-sample lifetime run (issue #20)."""

import tracemalloc

import numpy as np

from host.runs.kinds import KINDS
from host.store import Store
from protocol import schema
from tests.conftest import sample_columns

SAMPLES = 100_000
# Python's and numpy's allocations (tracemalloc) at their peak, over the bytes of the
# columns read: the read holds its result and one chunk of rows; the summary its stress-time
# copies and one record-long temporary at a time: 2.1. The first version (rows joined from
# chunks, np.polyfit over every point, a copy per step of the noise estimate) peaked at 3.7.
PEAK_OVER_COLUMNS = 2.5


def test_a_long_lifetime_run_is_read_back_and_summarised_in_about_twice_its_columns(tmp_path):
    store = Store("sqlite:///%s" % (tmp_path / "long.sqlite"))
    store.upsert_rig("rig1", "sim:G1")
    run = store.create_run("rig1", "lifetime", {"voltage_v": 10.0})
    seq = np.arange(SAMPLES)
    t_s = seq * 0.05
    decay = 50.0 * np.exp(-((t_s / 1000.0) ** 0.8))
    noisy = decay + np.random.default_rng(1).normal(0.0, 0.05, SAMPLES)
    flags = np.where(seq == 0, schema.FLAG_L0, 0)
    store.insert_samples(run.id, sample_columns(
        seq, t_s=t_s, luminance_cd_m2=np.clip(noisy, 0.0, None), flags=flags))
    kind = KINDS["lifetime"]
    tracemalloc.start()
    try:
        cols = store.read_samples(run.id, columns=kind.summary_columns)
        columns_bytes = sum(values.nbytes for values in cols.values())
        del cols["seq"]  # as Lifecycle._summary does
        summary = kind.summarize(run.params, run.calibration, cols, [])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    store.close()
    assert summary["fit_tau_s"] is not None, summary["notes"]  # the fit's path ran too
    assert peak < PEAK_OVER_COLUMNS * columns_bytes, (peak, columns_bytes)
