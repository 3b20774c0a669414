"""A long run (2 x 10^5 samples, about 28 h at 2 Hz) goes in and comes back whole."""

from __future__ import annotations

import numpy as np

from tests.conftest import sample_columns

N = 200_000


def test_large_run_reads_back_every_column_exactly(store, run_id):
    rng = np.random.default_rng(11)
    batch = sample_columns(np.arange(N), pl=np.where(np.arange(N) % 600 == 0, 0.9, np.nan),
                           shutter_open=rng.integers(0, 2, N).astype(bool))
    order = rng.permutation(N // 4000)  # batches of 4000 arrive in any order
    for b in order:
        part = {k: v[b * 4000:(b + 1) * 4000] for k, v in batch.items()}
        store.insert_samples(run_id, part)
    back = store.read_samples(run_id)
    assert len(back["seq"]) == N
    for name, values in batch.items():
        np.testing.assert_array_equal(back[name], np.asarray(values, dtype=back[name].dtype),
                                      err_msg=name)


def test_large_run_time_window_reads_only_that_window(store, run_id):
    store.insert_samples(run_id, sample_columns(np.arange(N)))  # t_s = seq / 4
    back = store.read_samples(run_id, start_s=10_000.0, end_s=10_010.0,
                              columns=["t_s", "luminance_cd_m2"])
    assert back["seq"].tolist() == list(range(40_000, 40_041))
    np.testing.assert_array_equal(back["t_s"], np.arange(40_000, 40_041) * 0.25)
