"""Hypothesis strategy for the simulator's fault plans (any plan the grammar can say)."""

from hypothesis import strategies as st

from hil_sim.chips import CHIP_NAMES
from hil_sim.faults import DOWN, UP, FaultPlan

_rate = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_seconds = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)
_positive_seconds = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False)


@st.composite
def plans(draw):
    def pair(values):
        if draw(st.booleans()):
            v = draw(values)
            return {UP: v, DOWN: v}
        return {UP: draw(values), DOWN: draw(values)}

    chips = draw(st.dictionaries(st.sampled_from(CHIP_NAMES),
                                 st.sampled_from(("missing", "stuck")), max_size=2))
    return FaultPlan(
        corrupt=pair(_rate), drop=pair(_rate), delay_s=pair(_seconds),
        cuts=tuple(sorted(draw(st.lists(st.tuples(_seconds, _positive_seconds), max_size=4)))),
        resets=tuple(sorted(draw(st.lists(_seconds, max_size=4)))),
        seed=draw(st.integers(min_value=0, max_value=2**64 - 1)),
        lit_cuts=tuple(sorted(draw(st.lists(st.tuples(_seconds, _positive_seconds),
                                            max_size=2)))),
        lit_resets=tuple(sorted(draw(st.lists(_seconds, max_size=2)))),
        missing=tuple(sorted(c for c, f in chips.items() if f == "missing")),
        stuck=tuple(sorted(c for c, f in chips.items() if f == "stuck")))
