"""The web UI over a journal (a SQLite file or a PostgreSQL database): ``actorflow ui`` (U1, U2,
C1).

Server-rendered pages over the same read model as the CLI (`actorflow.journal.JournalReader`),
refreshed while a system writes to the journal; writes (requeue) only when allowed. Needs the
``ui`` extra: ``pip install 'actorflow[ui]'`` (Starlette and uvicorn).
"""

from ._access import is_loopback as is_loopback
from ._app import create_app as create_app
from ._server import bind as bind
from ._server import serve as serve
from ._settings import UiSettings as UiSettings

__all__ = ["UiSettings", "bind", "create_app", "is_loopback", "serve"]
