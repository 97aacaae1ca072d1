"""`actorflow.tuned_collector` and `actorflow.run`'s use of it: the youngest generation of
CPython's cyclic garbage collector collected every 10,000 allocations while a system runs, and
the collector set back as it was afterwards, also when `main` raises."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import actorflow as af


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults, whatever ran before
    yield gc.get_threshold()
    gc.set_threshold(*before)


@pytest.mark.timeout(30)
def test_run_tunes_the_collector_while_main_runs_and_restores_it() -> None:
    async def seen(system: af.ActorSystem) -> tuple[int, int, int]:
        return gc.get_threshold()

    assert af.run(seen, handle_signals=False) == (10_000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)
    assert af.run(seen, handle_signals=False, tune_collector=False) == (700, 10, 10)

    async def broken(system: af.ActorSystem) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        af.run(broken, handle_signals=False)
    assert gc.get_threshold() == (700, 10, 10)


def test_tuned_collector_never_collects_more_often_and_nests() -> None:
    with af.tuned_collector(5_000):
        assert gc.get_threshold() == (5_000, 10, 10)
        with af.tuned_collector(2_000):  # rarer already: left as it is
            assert gc.get_threshold() == (5_000, 10, 10)
        assert gc.get_threshold() == (5_000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("young", [0, -1, 2.5, True, "10000"])
def test_tuned_collector_refuses_what_is_not_a_positive_count(young: object) -> None:
    tuned = af.tuned_collector(young)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="young must be a positive number of allocations"):
        tuned.__enter__()
    assert gc.get_threshold() == (700, 10, 10)
