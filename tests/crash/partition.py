"""Network namespaces for the cluster kill loop (C2): each node behind a link it can be cut off by.

Where the process is root and the kernel lets it make a network namespace and a veth pair
(`probe` tries both with throwaway names), each node runs in a namespace of its own
(``ip netns exec NS ...``), joined to the root namespace by a veth pair on a private /30 of
10.231.0.0/16: the root side holds ``.1``, the node's side ``.2``. The test server also listens
on every root-side address, and a node connects to its own link's over TCP (a Unix socket
crosses namespaces, so a node given one could not be cut off).

A cut takes the root side of a node's link down (``ip link set ... down``): the node's packets
go into a link whose other end is down and are dropped, so its TCP connections hang as in a
real partition, until the link is brought back up and TCP's retransmissions go through. The
kernel removes a down link's route; a blackhole route for the same /30 (a higher metric, added
before the link) then takes over, so the server's replies are dropped too instead of following
the default route out of the machine's real interface. Adding that route is also how a run
claims its /30: the kernel refuses a second one (``File exists``), and the run tries another.

Every name carries a token unique to the run (two runs never collide), and `Network.close`
removes every link, route and namespace it made, whatever happened before (it runs in a
``finally``). Nothing here touches an interface it did not make.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

SUBNETS = ipaddress.IPv4Network("10.231.0.0/16")
"""Where each node's /30 is picked, at random (never one a route already names)."""
BLACKHOLE_METRIC = "4000"
TRIES = 32
"""/30s tried before giving up: a taken one is refused by the kernel, another is picked."""


HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}
"""Signals held while links are made or removed: each made thing is written down before a
Ctrl-C, a SIGTERM or pytest-timeout's alarm can interrupt (the first version leaked a route
when a SIGTERM came between ``ip route add`` and its note)."""


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold `HELD` for the block (they are delivered at its end)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


class NetworkError(RuntimeError):
    """Raised when a namespace, link or route cannot be made or changed; names the command."""


def ip(*args: str) -> None:
    """Run ``ip ARGS``; raise NetworkError with its stderr when it fails."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


def probe() -> str | None:
    """None when nodes can run in network namespaces here; else why not, in one line."""
    if os.geteuid() != 0:
        return "not root (network namespaces and veth pairs need CAP_NET_ADMIN)"
    token = secrets.token_hex(3)
    try:
        with signals_held():
            tried(f"afprobe-{token}", f"afp{token}r", f"afp{token}n")
    except (NetworkError, OSError, subprocess.TimeoutExpired) as exc:
        return f"network namespaces not allowed here: {exc}"
    return None


def tried(space: str, root_side: str, node_side: str) -> None:
    """Make a namespace and a veth pair into it, then remove both; raise what failed."""
    ip("netns", "add", space)
    try:
        ip("link", "add", root_side, "type", "veth", "peer", "name", node_side)
        try:
            ip("link", "set", node_side, "netns", space)
        finally:
            ip("link", "del", root_side)
    finally:
        ip("netns", "del", space)


@dataclass
class Link:
    """One node's namespace and its veth pair on a /30 of its own."""

    space: str
    root_side: str
    node_side: str
    subnet: ipaddress.IPv4Network
    down: bool = False

    @property
    def server_address(self) -> str:
        """The root side's address: where the node reaches the server."""
        return str(self.subnet.network_address + 1)

    @property
    def node_address(self) -> str:
        return str(self.subnet.network_address + 2)

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside this link's namespace."""
        return ["ip", "netns", "exec", self.space, *argv]

    def cut(self) -> None:
        """Take the root side down: the node's connections hang, nothing reaches it."""
        ip("link", "set", self.root_side, "down")
        self.down = True

    def heal(self) -> None:
        ip("link", "set", self.root_side, "up")
        self.down = False


@dataclass
class Network:
    """The links of one run; `close` removes all of them."""

    token: str = field(default_factory=lambda: secrets.token_hex(3))
    links: dict[str, Link] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)
    spaces: list[str] = field(default_factory=list)
    pairs: list[str] = field(default_factory=list)

    def add(self, node: str, index: int) -> Link:
        """Make `node`'s namespace and link (`index` keeps interface names short and apart)."""
        with signals_held():
            return self._add(node, index)

    def _add(self, node: str, index: int) -> Link:
        space = f"actorflow-{self.token}-{node}"
        root_side, node_side = f"af{self.token}{index}r", f"af{self.token}{index}n"
        subnet = self._claim()
        ip("netns", "add", space)
        self.spaces.append(space)
        ip("link", "add", root_side, "type", "veth", "peer", "name", node_side)
        self.pairs.append(root_side)
        ip("link", "set", node_side, "netns", space)
        link = Link(space, root_side, node_side, subnet)
        ip("addr", "add", f"{link.server_address}/30", "dev", root_side)
        ip("link", "set", root_side, "up")
        ip("-n", space, "addr", "add", f"{link.node_address}/30", "dev", node_side)
        ip("-n", space, "link", "set", node_side, "up")
        ip("-n", space, "link", "set", "lo", "up")
        self.links[node] = link
        return link

    def _claim(self) -> ipaddress.IPv4Network:
        """A /30 no route names yet, claimed by adding its blackhole route."""
        last: NetworkError | None = None
        for _ in range(TRIES):
            start = secrets.randbelow(SUBNETS.num_addresses // 4) * 4
            subnet = ipaddress.IPv4Network(f"{SUBNETS.network_address + start}/30")
            try:
                ip("route", "add", "blackhole", str(subnet), "metric", BLACKHOLE_METRIC)
            except NetworkError as exc:  # another run's (File exists): pick another
                last = exc
                continue
            self.routes.append(str(subnet))
            return subnet
        raise NetworkError(f"no free /30 in {SUBNETS} after {TRIES} tries: {last}")

    @property
    def server_addresses(self) -> list[str]:
        return [link.server_address for link in self.links.values()]

    @property
    def subnets(self) -> list[str]:
        return [str(link.subnet) for link in self.links.values()]

    def close(self) -> list[str]:
        """Remove every pair, namespace and route made, in that order; return what could not
        be removed (one line each; empty when everything went)."""
        with signals_held():
            return self._close()

    def _close(self) -> list[str]:
        left = []
        for root_side in self.pairs:  # deleting one side deletes its peer, wherever it is
            try:
                ip("link", "del", root_side)
            except NetworkError as exc:
                left.append(str(exc))
        for space in self.spaces:
            try:
                ip("netns", "del", space)
            except NetworkError as exc:
                left.append(str(exc))
        for subnet in self.routes:
            try:
                ip("route", "del", "blackhole", subnet, "metric", BLACKHOLE_METRIC)
            except NetworkError as exc:
                left.append(str(exc))
        self.pairs, self.spaces, self.routes = [], [], []
        self.links.clear()
        return left
