"""The journal: the backend interface, its records, and the SQLite, PostgreSQL and in-memory
backends.

Pass a path, a ``postgresql://`` URL or a backend to ``ActorSystem(journal=...)``; implement
`JournalBackend` (and pass the conformance suite) to store journals elsewhere.
"""

from ._backend import JournalBackend as JournalBackend
from ._conversation import ConversationNode as ConversationNode
from ._conversation import conversation_tree as conversation_tree
from ._memory import MemoryJournal as MemoryJournal
from ._postgres import PostgresJournal as PostgresJournal
from ._records import ActorRecord as ActorRecord
from ._records import Batch as Batch
from ._records import Compacted as Compacted
from ._records import Done as Done
from ._records import Failed as Failed
from ._records import MessageRecord as MessageRecord
from ._records import StepRecord as StepRecord
from ._records import TimerRecord as TimerRecord
from ._resolve import backend_for as backend_for
from ._schema import SCHEMA_VERSION as SCHEMA_VERSION
from ._sqlite import SQLiteJournal as SQLiteJournal

__all__ = [
    "JournalBackend",
    "SQLiteJournal",
    "MemoryJournal",
    "PostgresJournal",
    "backend_for",
    "MessageRecord",
    "ActorRecord",
    "Batch",
    "Done",
    "Failed",
    "StepRecord",
    "TimerRecord",
    "Compacted",
    "ConversationNode",
    "conversation_tree",
    "SCHEMA_VERSION",
]
