"""Our compute cycles in SCALE-Sim's convention against SCALE-Sim v3's recorded runs (within 1 %)."""

from __future__ import annotations

import pytest

from archmodel.analysis import contraction_shape
from archmodel.dataflow.scalesim import REFERENCE, case_workload, comparison, load_reference


@pytest.mark.skipif(not REFERENCE.exists(), reason="tests/data/scalesim_reference.json not recorded yet")
def test_every_recorded_case_exact() -> None:
    """The issue asks for 1 %; the model reproduces SCALE-Sim exactly, so any slip at all fails."""
    rows = comparison(load_reference())
    assert len(rows) >= 30
    assert {r["dataflow"] for r in rows} == {"ws", "os", "is"}
    bad = [r for r in rows if r["error"] != 0]
    assert not bad, bad


def test_convolution_goes_through_affine_indices() -> None:
    case = {"name": "c", "kind": "conv", "ifmap_h": 24, "ifmap_w": 20, "filter_h": 7, "filter_w": 7,
            "channels": 3, "num_filters": 16, "stride": 2, "rows": 8, "cols": 8, "dataflow": "ws"}
    cascade = case_workload(case)
    shape = contraction_shape(cascade, cascade.einsums[0])
    # SCALE-Sim's output size: ceil((24 - 7 + 2) / 2) = 10 rows, ceil((20 - 7 + 2) / 2) = 8 columns.
    assert (shape.M, shape.N, shape.K) == (10 * 8, 16, 3 * 7 * 7)
