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

# --- units and the minute ledger (docs/rules.md#timed-codes, docs/rules.md#time-integrity)
# -------------------------------------------------

ALL_TIMED_CODES = ("97110", "97112", "97113", "97116", "97140", "97530", "97535", "97032", "97750")
BILLING_UNTIMED_CODES = ("97161", "97164", "97150", "97010", "97012", "G0283")
SUPERVISED_CODES = ("97010", "97012", "97016", "G0283")

timed_minutes = st.integers(0, 80)
timed_lines = st.lists(st.tuples(st.sampled_from(ALL_TIMED_CODES), timed_minutes), min_size=1, max_size=6)
untimed_lines = st.lists(
    st.tuples(st.sampled_from(BILLING_UNTIMED_CODES), st.integers(0, 60)), min_size=1, max_size=3
)
unit_rules = st.sampled_from(["cms", "ama"])


@st.composite
def timed_blocks(draw: st.DrawFn) -> list[dict[str, object]]:
    """Service lines with start/end blocks laid out from 08:00, some touching, some overlapping."""
    lines: list[dict[str, object]] = []
    clock = 8 * 60
    for _ in range(draw(st.integers(1, 5))):
        code = draw(st.sampled_from((*ALL_TIMED_CODES[:5], "97150", "97161", *SUPERVISED_CODES[:2])))
        length = draw(st.integers(1, 40))
        start = clock + draw(st.integers(-20, 10))
        start = max(8 * 60, start)
        end = start + length
        slack = draw(st.sampled_from([0, 0, 0, 1, -1, 5]))
        lines.append(
            {
                "code": code,
                "minutes": max(0, length + slack),
                "start": f"{start // 60:02d}:{start % 60:02d}",
                "end": f"{end // 60:02d}:{end % 60:02d}",
            }
        )
        clock = end
    return lines
