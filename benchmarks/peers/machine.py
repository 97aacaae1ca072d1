"""What the figures were measured on: the machine, Python, and every measured package's version."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

DISTRIBUTIONS = (
    "actorflow",
    "uvloop",
    "pykka",
    "thespian",
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "dbos",
    "sqlalchemy",
    "matplotlib",
)
"""The packages whose versions the report names: the systems measured and what they run on."""


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo, or what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_lines() -> list[str]:
    """One line each: CPUs, OS, Python, SQLite."""
    return [
        f"CPU: {os.cpu_count()} x {cpu_model()}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        f"SQLite (Python's sqlite3 module): {sqlite3.sqlite_version}",
    ]


def versions() -> dict[str, str]:
    """Each distribution's installed version, or why there is none."""
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
