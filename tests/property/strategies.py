"""Shared hypothesis strategies for careledger's property tests."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

EPISODE_START = date(2026, 3, 2)
TODAY = date(2026, 11, 20)

TIMED_CODES = ("97110", "97112", "97116", "97140", "97530", "97535")
UNTIMED_CODES = ("97161", "97010", "97150", "G0283")
UNKNOWN_CODES = ("97999", "99213")


def clinical_dates(before: int = 5, after: int = 80) -> st.SearchStrategy[date]:
    """Dates around the episode: a few before its start, most inside it."""
    return st.integers(-before, after).map(lambda n: EPISODE_START + timedelta(days=n))


def any_dates() -> st.SearchStrategy[date]:
    """Clinical dates, sometimes in the future."""
    return st.one_of(
        clinical_dates(),
        st.integers(1, 5).map(lambda n: TODAY + timedelta(days=n)),
    )


minutes = st.integers(0, 45)
codes = st.one_of(
    st.sampled_from(TIMED_CODES),
    st.sampled_from(UNTIMED_CODES),
    st.sampled_from(UNKNOWN_CODES),
)
service_lines = st.lists(
    st.fixed_dictionaries({"code": codes, "minutes": st.one_of(minutes, st.just(-3))}),
    min_size=1,
    max_size=4,
)
exercise_ids = st.sampled_from(["slr", "bridge", "step-up"])
instruments = st.sampled_from(["LEFS", "ODI", "NPRS"])
