"""The fault injector on its own: per-byte draws, counts, and the cut and reset schedule."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from hil_sim.faults import DOWN, LIT, UP, FaultInjector, parse_faults


def _chunks(data, cuts):
    edges = [0] + sorted(c % (len(data) + 1) for c in cuts) + [len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0), max_size=8),
       st.integers(min_value=0, max_value=1000))
def test_outcome_depends_on_the_bytes_not_on_how_they_are_chunked(data, cuts, seed):
    plan = parse_faults(f"corrupt=0.2,drop=0.3,seed={seed}")
    whole = FaultInjector(plan).transform(UP, data)
    pieces = FaultInjector(plan)
    assert b"".join(pieces.transform(UP, c) for c in _chunks(data, cuts)) == whole


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=1000))
def test_every_byte_in_is_either_out_or_counted_as_dropped(data, seed):
    injector = FaultInjector(parse_faults(f"drop=0.25,seed={seed}"))
    out = injector.transform(DOWN, data)
    assert len(out) + injector.stats["down_dropped_bytes"] == len(data)
    assert injector.stats["down_bytes_in"] == len(data)


def test_corruption_rate_is_the_probability_per_byte():
    injector = FaultInjector(parse_faults("corrupt=0.01,seed=3"))
    data = bytes(200_000)
    out = injector.transform(UP, data)
    flipped = sum(1 for b in out if b)
    assert flipped == injector.stats["up_corrupted_bytes"]
    assert abs(flipped - 2000) < 5 * (200_000 * 0.01 * 0.99) ** 0.5


def test_same_seed_same_damage_other_seed_other_damage():
    data = bytes(5000)

    def damage(text):
        return FaultInjector(parse_faults(text)).transform(UP, data)

    assert damage("corrupt=0.05,seed=1") == damage("corrupt=0.05,seed=1")
    assert damage("corrupt=0.05,seed=1") != damage("corrupt=0.05,seed=2")


def test_zero_rates_pass_bytes_untouched():
    injector = FaultInjector(parse_faults("delay=5ms"))
    assert injector.transform(UP, b"\x00\xffabc") == b"\x00\xffabc"


def test_reset_is_due_once_device_time_reaches_it():
    injector = FaultInjector(parse_faults("reset=10s,reset=20s"))
    assert not injector.advance(9.99, wall_s=0.0)
    assert injector.advance(10.0, wall_s=0.0)
    assert not injector.advance(15.0, wall_s=0.0)
    assert injector.advance(20.0, wall_s=0.0)


def test_resets_due_together_coalesce_into_one():
    injector = FaultInjector(parse_faults("reset=1s,reset=2s"))
    assert injector.advance(5.0, wall_s=0.0)
    assert not injector.advance(5.0, wall_s=0.0)


def test_lit_time_faults_go_by_the_lit_clock_only():
    injector = FaultInjector(parse_faults("reset=lit:10s,cut=lit:5s+2s"))
    assert not injector.advance(100.0, wall_s=0.0)  # device time: not theirs
    assert not injector.cut_active(0.0)
    assert not injector.advance(5.0, wall_s=1.0, clock=LIT)
    assert injector.cut_active(2.5) and not injector.cut_active(3.0)
    assert injector.advance(10.0, wall_s=4.0, clock=LIT)


def test_cut_starts_at_device_time_and_lasts_wall_time():
    injector = FaultInjector(parse_faults("cut=100s+3s"))
    injector.advance(99.0, wall_s=50.0)
    assert not injector.cut_active(50.0)
    injector.advance(100.0, wall_s=51.0)
    assert injector.cut_active(53.9)
    assert not injector.cut_active(54.0)
    assert injector.stats["cuts"] == 1


def test_overlapping_cuts_extend_to_the_later_end():
    injector = FaultInjector(parse_faults("cut=10s+5s,cut=11s+1s"))
    injector.advance(10.0, wall_s=0.0)
    injector.advance(11.0, wall_s=1.0)
    assert injector.cut_end_wall_s() == 5.0
    assert injector.stats["cuts"] == 2
