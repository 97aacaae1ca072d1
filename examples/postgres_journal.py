"""A durable counter on a PostgreSQL journal: run it twice, and the second run goes on.

Usage: python examples/postgres_journal.py postgresql://USER:PASSWORD@HOST:PORT/DBNAME
(or set ACTORFLOW_POSTGRES_URL). The database must be empty or hold an actorflow journal.
"""

import os
import sys

import actorflow as af


class Add(af.Message, tag="pg_counter.Add"):
    n: int


class Total(af.State):
    value: int = 0


class Counter(af.Actor[Total], kind="pg_counter"):
    def on_add(self, msg: Add) -> Total:
        self.state.value += msg.n
        return self.state


async def main(system: af.ActorSystem) -> None:
    counter = await system.spawn(Counter, name="counter")
    total = await counter.ask(Add(1), expect=Total)  # committed to PostgreSQL before it runs
    print(f"value={total.value}")


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ["ACTORFLOW_POSTGRES_URL"]
    # A URL works wherever a journal path does; the object gives the journal's settings.
    journal = af.PostgresJournal(url, readers=2, reconnect_timeout=30.0)
    af.run(main, journal=journal)
