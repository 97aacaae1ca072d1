"""Durability (J1-J12): the layer that makes named actors survive crashes and restarts.

Above the in-memory core and below the system: durable cells (`DurableCell`), the group-commit
writer, steps, recovery, outside producers, all owned by one `Durability` that the system holds
when it has a journal. Nothing below this package imports it (L1).
"""

from ._cell import DurableCell as DurableCell
from ._delivery import JournaledCell as JournaledCell
from ._durability import Durability as Durability
from ._durability import TimerSink as TimerSink
from ._options import ActorOptions as ActorOptions
from ._outside import CHECK_SECONDS as CHECK_SECONDS
from ._records import record_for as record_for
from ._recovery import Registry as Registry
from ._steps import current_step as current_step
from ._steps import mark_started as mark_started
from ._steps import nonblocking as nonblocking
from ._steps import run_step as run_step
from ._turn import Turn as Turn
from ._writer import Delivery as Delivery
from ._writer import JournalStatistics as JournalStatistics
from ._writer import Writer as Writer

__all__ = [
    "ActorOptions",
    "CHECK_SECONDS",
    "Delivery",
    "DurableCell",
    "Durability",
    "JournalStatistics",
    "JournaledCell",
    "Registry",
    "TimerSink",
    "Turn",
    "Writer",
    "record_for",
    "run_step",
    "current_step",
    "mark_started",
    "nonblocking",
]
