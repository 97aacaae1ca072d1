"""The cluster kill loop, short (C2, C3, C4, J2, J3, J5): `make crash-cluster N=...` is the long
one (tests/crash/cluster.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .crash.cluster import run

KILLS = int(os.environ.get("ACTORFLOW_TEST_CLUSTER_KILLS", "3"))
NODES = 3


@pytest.mark.timeout(300)
def test_c3_j3_killed_stopped_and_restarted_nodes_lose_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    outcome = run(kills=KILLS, nodes=NODES, seed=KILLS, workdir=tmp_path)
    print("\n".join(outcome.told + outcome.problems))
    print(outcome.details_line())
    print(outcome.failover_line())
    print(outcome.line())
    assert outcome.problems == []
    assert (outcome.lost, outcome.duplicated) == (0, 0), outcome.line()
    assert (outcome.kills, outcome.stops) == (KILLS, 1)
    assert outcome.acked > 0
    assert outcome.details["turns"] == 3 * outcome.acked  # each Work and its two relays, once
    assert len(outcome.failovers) == KILLS  # each killed node's actors were handled again
