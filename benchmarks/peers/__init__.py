"""actorflow beside its peers: the same workloads on Pykka, Thespian, LangGraph and DBOS.

Run it with ``make bench-peers``, which installs the peers into their own virtual environment
(``.venv-peers``) so that none of them becomes a dependency of actorflow. See
``benchmarks/README.md`` and ``docs/benchmarks.md``.
"""
