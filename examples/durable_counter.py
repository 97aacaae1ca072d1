"""A durable counter: run it twice, and the second run goes on from the first.

Usage: python examples/durable_counter.py [JOURNAL] (default: counter.db).
"""

import sys

import actorflow as af


class Add(af.Message, tag="counter.Add"):
    n: int


class Total(af.State):
    value: int = 0
    adds: int = 0


class Counter(af.Actor[Total], kind="counter"):
    def on_add(self, msg: Add) -> Total:
        self.state.value += msg.n
        self.state.adds += 1
        return self.state


async def main(system: af.ActorSystem) -> None:
    # Re-created from the journal on the second run; spawn then returns the running actor.
    counter = await system.spawn(Counter, name="counter")
    await counter.tell(Add(10), id="setup-bonus")  # an id makes the send idempotent
    total = await counter.ask(Add(1), expect=Total)
    print(f"value={total.value} adds={total.adds}")


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "counter.db")
