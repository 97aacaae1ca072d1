"""actorflow: typed-message actors, OTP supervisors and a durable SQLite journal for AI-agent work.

The public surface is what ``__all__`` lists; everything else lives in private modules.
"""

import logging as _logging

from ._actor import Actor as Actor
from ._clock import Clock as Clock
from ._codec import Codec as Codec
from ._collector import tuned_collector as tuned_collector
from ._context import ActorContext as ActorContext
from ._deadletter import DeadLetter as DeadLetter
from ._errors import ActorExists as ActorExists
from ._errors import ActorFailed as ActorFailed
from ._errors import ActorflowError as ActorflowError
from ._errors import ActorNotFound as ActorNotFound
from ._errors import ActorStopped as ActorStopped
from ._errors import AskTimeout as AskTimeout
from ._errors import DecodeError as DecodeError
from ._errors import DefinitionError as DefinitionError
from ._errors import EncodeError as EncodeError
from ._errors import JournalCorrupt as JournalCorrupt
from ._errors import JournalError as JournalError
from ._errors import JournalFull as JournalFull
from ._errors import JournalLocked as JournalLocked
from ._errors import JournalSchemaError as JournalSchemaError
from ._errors import JournalUnavailable as JournalUnavailable
from ._errors import MailboxFull as MailboxFull
from ._errors import MessageCancelled as MessageCancelled
from ._errors import MessageNotFound as MessageNotFound
from ._errors import MessageStatusError as MessageStatusError
from ._errors import MessageTypeError as MessageTypeError
from ._errors import NodeNameTaken as NodeNameTaken
from ._errors import OwnershipLost as OwnershipLost
from ._errors import RemoteFailure as RemoteFailure
from ._errors import ReplayError as ReplayError
from ._errors import StartFailed as StartFailed
from ._errors import StepOutcomeUnknown as StepOutcomeUnknown
from ._errors import SupervisorGaveUp as SupervisorGaveUp
from ._errors import UnexpectedReply as UnexpectedReply
from ._llm import LLMCall as LLMCall
from ._llm import TokenUsage as TokenUsage
from ._message import Message as Message
from ._message import State as State
from ._message import Terminated as Terminated
from ._ref import ActorRef as ActorRef
from ._run import run as run
from ._services import SystemStatistics as SystemStatistics
from ._spec import DEFAULT_MAILBOX_SIZE as DEFAULT_MAILBOX_SIZE
from ._spec import Child as Child
from ._spec import Restart as Restart
from ._spec import Strategy as Strategy
from ._spec import Supervisor as Supervisor
from ._spec import default_backoff as default_backoff
from ._system import ActorSystem as ActorSystem
from ._target import ActorStatistics as ActorStatistics
from .durable import JournalStatistics as JournalStatistics
from .durable import nonblocking as nonblocking
from .journal import PostgresJournal as PostgresJournal

__version__ = "0.1.0"

__all__ = [
    # messages and state
    "Message",
    "State",
    "Codec",
    "Terminated",
    # actors
    "Actor",
    "ActorContext",
    "ActorRef",
    "ActorStatistics",
    "DEFAULT_MAILBOX_SIZE",
    # systems and supervision
    "ActorSystem",
    "SystemStatistics",
    "JournalStatistics",
    "PostgresJournal",
    "Supervisor",
    "Child",
    "Strategy",
    "Restart",
    "default_backoff",
    "DeadLetter",
    "Clock",
    # steps
    "nonblocking",
    "LLMCall",
    "TokenUsage",
    "run",
    "tuned_collector",
    # errors
    "ActorflowError",
    "ActorExists",
    "ActorFailed",
    "ActorNotFound",
    "ActorStopped",
    "MessageCancelled",
    "AskTimeout",
    "DecodeError",
    "DefinitionError",
    "EncodeError",
    "JournalError",
    "JournalCorrupt",
    "JournalFull",
    "JournalLocked",
    "JournalSchemaError",
    "JournalUnavailable",
    "NodeNameTaken",
    "OwnershipLost",
    "RemoteFailure",
    "MessageNotFound",
    "MessageStatusError",
    "ReplayError",
    "MailboxFull",
    "MessageTypeError",
    "StartFailed",
    "StepOutcomeUnknown",
    "SupervisorGaveUp",
    "UnexpectedReply",
]

# Library logging convention: silent unless the application configures logging (O1).
_logging.getLogger("actorflow").addHandler(_logging.NullHandler())

# Public names report the public module, so reprs and docs point where users import from.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = __name__
del _name, _obj
