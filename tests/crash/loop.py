"""The kill loop (J2, J3, J5): SIGKILL the crash app at random points, restart it, check.

``python -m tests.crash.loop N [--total T] [--seed S] [--dir D]`` runs N kills and prints one
final line: ``kills=N acked=A handled=H lost=L duplicated=D integrity_ok=K/N``.

Half of the kills arm a named crash point at a random hit (inside a commit, right after one,
right after a handler); the others SIGKILL the process after a random delay. After every kill,
``PRAGMA integrity_check`` must say ok. At the end a last run sends the rest and waits until
everything is handled; then every acknowledged message must have been handled exactly once, and
every Hop a node forwarded must have reached the next node exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODES = 8
POINTS = ("commit.before_commit", "commit.after_commit", "turn.after_handler")
# The app also compacts its journal all along (J10): a kill may land inside a compaction too.


@dataclass
class Outcome:
    kills: int
    acked: int
    handled: int
    lost: int
    duplicated: int
    integrity_ok: int

    def line(self) -> str:
        return (
            f"kills={self.kills} acked={self.acked} handled={self.handled} lost={self.lost}"
            f" duplicated={self.duplicated} integrity_ok={self.integrity_ok}/{self.kills}"
        )


def child(
    journal: Path, acks: Path, total: int, mode: str, crash: str | None
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("ACTORFLOW_CRASH_AT", None)
    if crash:
        env["ACTORFLOW_CRASH_AT"] = crash
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash.app", str(journal), str(acks), str(total), mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def integrity(journal: Path) -> bool:
    with sqlite3.connect(journal) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def run(kills: int, total: int, seed: int, workdir: Path) -> Outcome:
    rng = random.Random(seed)
    journal, acks = workdir / "crash.db", workdir / "acks.txt"
    integrity_ok = 0
    for _ in range(kills):
        crash = None
        if rng.random() < 0.5:
            crash = f"{rng.choice(POINTS)}:{rng.randint(1, 60)}"
        proc = child(journal, acks, total, "run", crash)
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready": recovery is done and the producer starts
        # A random moment to kill at (not a wait for an event); an armed crash point that has
        # not fired by then (the work ran out first) is replaced by a plain SIGKILL.
        delay = rng.uniform(0.02, 0.5) if crash is None else 3.0
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        if proc.returncode != -signal.SIGKILL:
            raise RuntimeError(f"the app ended with {proc.returncode}, not by SIGKILL")
        integrity_ok += integrity(journal)
    final = child(journal, acks, total, "final", None)
    out, err = final.communicate(timeout=300)
    if final.returncode != 0:
        raise RuntimeError(f"the final run failed ({final.returncode}):\n{err}")
    states = json.loads(out.split("STATES ", 1)[1])
    acked = {int(line) for line in acks.read_text().split() if line.isdigit()}
    handled = sum(s["works"] for s in states.values())
    duplicated = sum(s["duplicates"] for s in states.values())
    lost = sum(s["gaps"] for s in states.values())
    for index in range(NODES):
        node = states[f"node/{index}"]
        expected = len([k for k in range(total) if k % NODES == index])
        lost += max(0, expected - node["works"])
        successor = states[f"node/{(index + 1) % NODES}"]
        lost += node["forwarded"] - successor["hops"].get(str(index), 0)
    lost += len([k for k in acked if k >= total])
    return Outcome(kills, len(acked), handled, lost, duplicated, integrity_ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kills", type=int)
    parser.add_argument("--total", type=int, default=0, help="messages (default 60 per kill)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    total = args.total or 60 * max(args.kills, 5)
    print(f"seed={args.seed} total={total}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run(args.kills, total, args.seed, args.dir or Path(tmp))
    print(outcome.line())
    sys.exit(0 if outcome.lost == 0 and outcome.duplicated == 0 else 1)


if __name__ == "__main__":
    main()
