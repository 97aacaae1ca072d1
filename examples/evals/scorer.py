"""A scorer for the research team's eval suite: named scores, higher is better.

    actorflow replay --suite examples/evals/bundles --scorer examples.evals.scorer:score \\
        --live plan,llm,write --baseline examples/evals/baseline.json
"""

from __future__ import annotations

from actorflow.replay import Recording, Replay


def score(recorded: Recording, replayed: Replay) -> dict[str, float]:
    """How the replayed conversation compares with the recorded one."""
    before = recorded.final_states().get("planner") or {}
    after = replayed.final_states().get("planner") or {}
    report = after.get("report") or ""
    findings = list((after.get("findings") or {}).values())
    return {
        # The report is still the one the recorded conversation wrote.
        "same_report": float(report == before.get("report")),
        # Every finding cites its sources.
        "sourced": sum("Sources:" in f for f in findings) / len(findings) if findings else 0.0,
        # Every question the planner asked was answered in the report.
        "covered": float(all(q in report for q in after.get("questions") or [])),
        # Turns that replayed as recorded.
        "stable": 1 - sum(1 for t in replayed.turns if t.divergences) / len(replayed.turns),
    }
