"""The durable workflow on LangGraph: a graph of `STEPS` nodes in a line, checkpointed in SQLite.

``durability="sync"`` makes LangGraph write each step's checkpoint before the next step starts
(the default, "async", writes it while the next step runs). `SqliteSaver` puts its connection
in WAL mode itself. Concurrent workflows are Python threads invoking the same compiled graph,
each on a LangGraph thread (``thread_id``) of its own; they share the saver's one connection.
"""

from __future__ import annotations

import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from .durable_workloads import run_in_threads
from .sizes import STEPS
from .steps import step_body


class WorkflowState(TypedDict):
    """Every step appends its result."""

    results: Annotated[list[dict[str, object]], operator.add]


def _node(index: int) -> Any:
    def node(state: WorkflowState) -> dict[str, list[dict[str, object]]]:
        return {"results": [step_body(index)]}

    return node


class LangGraphRunner:
    """Runs workflows as threads of one compiled graph, checkpointed in the SQLite file `path`."""

    def __init__(self, path: Path) -> None:
        graph = StateGraph(WorkflowState)
        previous = START
        for index in range(STEPS):
            graph.add_node(f"step_{index}", _node(index))
            graph.add_edge(previous, f"step_{index}")
            previous = f"step_{index}"
        graph.add_edge(previous, END)
        # SqliteSaver serialises its own use of the connection with a lock.
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._graph = graph.compile(checkpointer=SqliteSaver(self._conn))

    def __enter__(self) -> LangGraphRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()

    def run(self, workflow_id: str) -> int:
        """Run a new workflow to its end; return how many step results it holds."""
        return self._invoke({"results": []}, workflow_id)

    def resume(self, workflow_id: str) -> int:
        """Go on with a workflow from its last checkpoint (input None resumes a thread)."""
        return self._invoke(None, workflow_id)

    def run_concurrently(self, prefix: str, workers: int, per_worker: int) -> list[int]:
        """`workers` threads invoking the one compiled graph, each on threads of its own."""
        return run_in_threads(self.run, prefix, workers, per_worker)

    def _invoke(self, state: WorkflowState | None, workflow_id: str) -> int:
        config = {"configurable": {"thread_id": workflow_id}}
        final = self._graph.invoke(state, config, durability="sync")
        return len(final["results"])
