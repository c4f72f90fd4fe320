"""The grouped-WS K-tile rule states a condition the user can meet: every row count its hint lists
builds, and the one refused is not among them."""

from __future__ import annotations

import re

import pytest

from archmodel.dataflow.systolic_rtl import check_array
from archmodel.errors import SpecError
from archmodel.pe.spec import PESpec


@pytest.mark.parametrize("rows, lanes, group", [(5, 1, 128), (3, 2, 128), (12, 1, 128), (32, 1, 16)])
def test_refusal_lists_rows_that_build(rows: int, lanes: int, group: int) -> None:
    pe = PESpec(kind="mixpe", a_bits=8, w_bits=4, lanes=lanes, group_size=group)
    with pytest.raises(SpecError) as err:
        check_array(pe, rows, 4, "ws", 8)
    text = str(err.value)
    assert text.startswith("rows:") and "multiple of" not in text
    top = int(re.search(r"rows a power of two up to (\d+)", text).group(1))
    listed = [1 << i for i in range(top.bit_length())]
    assert rows not in listed
    for ok in listed:  # the hint is followable: every listed row count is accepted
        check_array(pe, ok, 4, "ws", 8)
    if rows & (rows - 1) == 0:  # a power of two too big for the group: a bigger group also works
        assert f"group_size {rows * lanes} or more" in text
        check_array(pe.with_(group_size=rows * lanes), rows, 4, "ws", 8)


def test_lanes_wider_than_group_named() -> None:
    pe = PESpec(kind="mixpe", a_bits=8, w_bits=4, lanes=4, group_size=2)
    with pytest.raises(SpecError, match=r"pe\.lanes: .*expected lanes dividing group_size \(2\)"):
        check_array(pe, 1, 4, "os", 8)
