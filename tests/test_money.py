"""Money shown to people comes from integer pence exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pbr.money import pounds


def test_pounds_are_written_from_pence_exactly():
    assert [pounds(p) for p in (0, 5, 80000, 123456789, -1, -80000)] == [
        "£0.00",
        "£0.05",
        "£800.00",
        "£1,234,567.89",
        "-£0.01",
        "-£800.00",
    ]
    assert pounds(2**63 - 1) == "£92,233,720,368,547,758.07"  # where a float would already be out by pounds


@given(st.integers(-(10**15), 10**15))
def test_the_written_amount_reads_back_as_the_same_pence(pence):
    text = pounds(pence)
    sign = -1 if text.startswith("-") else 1
    assert sign * int(text.lstrip("-£").replace(",", "").replace(".", "")) == pence
