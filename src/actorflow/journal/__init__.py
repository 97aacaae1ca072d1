"""The journal: the backend interface, its records, and the SQLite, PostgreSQL and in-memory
backends.

Pass a path, a ``postgresql://`` URL or a backend to ``ActorSystem(journal=...)``; implement
`JournalBackend` (and pass the conformance suite) to store journals elsewhere. `JournalReader`
and the operations (`append`, `requeue`, `cancel`, `compact_before`, then `wake` for a running
system) are what the CLI and the web UI use on a journal: a file, or a ``postgresql://`` URL.
"""

from ._backend import AskChannel as AskChannel
from ._backend import CommitNotFollowed as CommitNotFollowed
from ._backend import JournalBackend as JournalBackend
from ._backend import PipelinedWrites as PipelinedWrites
from ._backend import WritesNow as WritesNow
from ._conversation import ConversationNode as ConversationNode
from ._conversation import conversation_tree as conversation_tree
from ._memory import MemoryJournal as MemoryJournal
from ._operations import Appended as Appended
from ._operations import Cancelled as Cancelled
from ._operations import append as append
from ._operations import cancel as cancel
from ._operations import compact_before as compact_before
from ._operations import pin_conversation as pin_conversation
from ._operations import requeue as requeue
from ._operations import requeue_dead as requeue_dead
from ._operations import wake as wake
from ._pg_nodes import NodeView as NodeView
from ._pg_nodes import actor_owners as actor_owners
from ._pg_nodes import read_nodes as read_nodes
from ._postgres import PostgresJournal as PostgresJournal
from ._postgres import is_postgres_url as is_postgres_url
from ._reader import ActorSummary as ActorSummary
from ._reader import ConversationFilters as ConversationFilters
from ._reader import ConversationSummary as ConversationSummary
from ._reader import DeadLetterFilters as DeadLetterFilters
from ._reader import JournalReader as JournalReader
from ._reader import JournalSummary as JournalSummary
from ._reader import MessageFilters as MessageFilters
from ._reader import OldestPending as OldestPending
from ._reader import decode_msgpack as decode_msgpack
from ._reader import duration as duration
from ._reader import file_sizes as file_sizes
from ._reader import journal_name as journal_name
from ._reader import open_writable as open_writable
from ._records import ActorRecord as ActorRecord
from ._records import Answer as Answer
from ._records import Batch as Batch
from ._records import Compacted as Compacted
from ._records import Done as Done
from ._records import Failed as Failed
from ._records import MessageRecord as MessageRecord
from ._records import MessageStatus as MessageStatus
from ._records import Reply as Reply
from ._records import StepRecord as StepRecord
from ._records import TimerRecord as TimerRecord
from ._records import TurnRecord as TurnRecord
from ._resolve import backend_for as backend_for
from ._schema import SCHEMA_VERSION as SCHEMA_VERSION
from ._sqlite import SQLiteJournal as SQLiteJournal

__all__ = [
    "JournalBackend",
    "AskChannel",
    "CommitNotFollowed",
    "PipelinedWrites",
    "WritesNow",
    "SQLiteJournal",
    "MemoryJournal",
    "PostgresJournal",
    "NodeView",
    "read_nodes",
    "actor_owners",
    "backend_for",
    "is_postgres_url",
    "MessageRecord",
    "MessageStatus",
    "ActorRecord",
    "Batch",
    "Done",
    "Reply",
    "Answer",
    "Failed",
    "StepRecord",
    "TimerRecord",
    "TurnRecord",
    "Compacted",
    "ConversationNode",
    "conversation_tree",
    "SCHEMA_VERSION",
    "JournalReader",
    "JournalSummary",
    "ActorSummary",
    "ConversationFilters",
    "ConversationSummary",
    "DeadLetterFilters",
    "OldestPending",
    "MessageFilters",
    "decode_msgpack",
    "duration",
    "journal_name",
    "file_sizes",
    "open_writable",
    "Appended",
    "append",
    "requeue",
    "Cancelled",
    "cancel",
    "requeue_dead",
    "compact_before",
    "wake",
    "pin_conversation",
]
