"""The cluster kill loop, short (C2, C3, C4, J2, J3, J5): `make crash-cluster N=...` is the long
one (tests/crash/cluster.py). Where the machine allows network namespaces (root), the nodes run
in them and one is cut off besides the one SIGSTOP; elsewhere the SIGSTOP only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .crash.cluster import run
from .crash.partition import probe

KILLS = int(os.environ.get("ACTORFLOW_TEST_CLUSTER_KILLS", "3"))
NODES = 3
PAUSE_SECONDS = 6.0
"""Each stop and cut: twice the 3 s lease (the long loop's 8 s, shortened so that a stop and a
cut take about as long as its one stop did)."""


@pytest.mark.timeout(300)
def test_c2_c3_j3_killed_stopped_cut_off_and_restarted_nodes_lose_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    cuts = 1 if probe() is None else 0
    outcome = run(
        kills=KILLS,
        nodes=NODES,
        seed=KILLS,
        workdir=tmp_path,
        stop_seconds=PAUSE_SECONDS,
        stops=1,
        cuts=1,
    )
    print(outcome.mode)
    print("\n".join(outcome.told + outcome.problems))
    print(outcome.details_line())
    print(outcome.failover_line())
    print(outcome.line())
    assert outcome.problems == []
    assert (outcome.lost, outcome.duplicated) == (0, 0), outcome.line()
    assert (outcome.kills, outcome.stops, outcome.cuts) == (KILLS, 1, cuts)
    assert outcome.mode.startswith("mode=namespaces" if cuts else "mode=sigstop-only")
    assert outcome.acked > 0
    assert outcome.details["turns"] == 3 * outcome.acked  # each Work and its two relays, once
    assert len(outcome.failovers) == KILLS  # each killed node's actors were handled again
    # How many of a paused node's actors the others took meanwhile is printed (stop_ and
    # cut_actors_taken_over), not asserted: it depends on how fast failover is under load, a
    # benchmark's business (cluster_failover_p99), not a test's.
