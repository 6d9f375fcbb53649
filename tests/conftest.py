"""Shared fixtures: where the real data lives, and skip markers when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NTU_SAMPLES = SHARED_DATA / "ntu-samples"
NW_UCLA = SHARED_DATA / "nw-ucla" / "all_sqe"
TRUNCATED_NTU = ("S005C002P013R002A056", "S012C001P008R002A030")

needs_ntu = pytest.mark.skipif(not NTU_SAMPLES.is_dir(),
                               reason=f"real NTU samples not found at {NTU_SAMPLES}")
needs_ucla = pytest.mark.skipif(not NW_UCLA.is_dir(),
                                reason=f"NW-UCLA all_sqe not found at {NW_UCLA}")


@pytest.fixture(scope="session")
def small_synthetic():
    """A small in-memory synthetic raw dataset (16 classes × 6)."""
    from skelssl.data.synthetic import make_synthetic

    return make_synthetic(per_class=6, seed=3)
