# One command per check. `make demo` and `make test` create .venv and install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test lint format browser-deps screenshots bench bench-peers crash crash-cluster soak docs clean

N ?= 200

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev --group bench
	touch $(STAMP)

# The quick start's main job: the research team (a planner, two workers and a search tool,
# every LLM and tool call a recorded step) under the supervisor process, over a real SQLite
# journal (./demo.db); it finishes by itself. Then what the journal holds, and the
# conversation as a tree across the actors.
demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/actorflow run examples.research_team:main --journal demo.db
	$(BIN)/actorflow journal stats --journal demo.db
	$(BIN)/actorflow journal actors --journal demo.db
	$(BIN)/actorflow journal conversation task-1 --journal demo.db

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks examples
	$(BIN)/ruff format src tests benchmarks examples

# The web UI's browser test drives Debian's chromium through chromedriver (selenium); install
# them when either is missing (as root: these machines run as root; elsewhere through sudo).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# Two worker processes, each taking whole test files (so a module's shared server or process is
# made once): most tests wait on a process, a server or a disk, and two of them share the cores.
test: lint browser-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The screenshots docs/ui.md shows, taken again by the browser test (make test leaves them be).
screenshots: $(STAMP) browser-deps
	ACTORFLOW_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/ui/test_browser.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# actorflow beside Pykka, Thespian, LangGraph and DBOS (docs/benchmarks.md), in a venv of their
# own so that no peer becomes a dependency; a peer whose install fails is reported in the tables.
# `make bench-peers PEERS_ARGS=--quick` for a short run.
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed
PEERS := pykka thespian langgraph langgraph-checkpoint-sqlite dbos matplotlib

$(PEERS_STAMP): pyproject.toml
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(PEERS_VENV)/bin/python -m pip install --quiet -e ".[postgres]"
	rm -f $(PEERS_VENV)/not-installed.txt
	for peer in $(PEERS); do \
		$(PEERS_VENV)/bin/python -m pip install --quiet "$$peer" >$(PEERS_VENV)/pip-$$peer.log 2>&1 \
			|| echo "$$peer" >>$(PEERS_VENV)/not-installed.txt; \
	done
	touch $(PEERS_STAMP)

bench-peers: $(PEERS_STAMP)
	$(PEERS_VENV)/bin/python -m benchmarks.peers $(PEERS_ARGS)

# The long kill loop (J2, J3, J5): N SIGKILLs at random points, then every acknowledged message
# must have been handled exactly once. `make test` runs a short one.
crash: $(STAMP)
	$(BIN)/python -m tests.crash.loop $(N)

# The cluster kill loop (C2, C3, C4, J2, J3, J5): 3 nodes over one real PostgreSQL server, N
# SIGKILLs of random nodes, one SIGSTOP past the lease and one server restart; as root, with
# network namespaces allowed, each node in a namespace of its own and one cut off (its veth
# link down) past the lease besides (it prints which mode ran); then every acknowledged message
# handled exactly once per hop, in order per actor, and the failover times. `CLUSTER_ARGS=--nodes
# 1` runs one node, `--cuts 3 --stops 0` three cuts; `make test` runs a short one.
crash-cluster: $(STAMP)
	$(BIN)/python -m tests.crash.cluster $(N) $(CLUSTER_ARGS)

# A durable soak ("A journal that costs what SQLite costs"): N tells (a million unless N= says
# otherwise) to a few durable actors on a SQLite journal in a temporary directory, compacted as
# it goes; one line per RSS sample, then a verdict: flat=yes when RSS after the warm-up grows
# less than the stated bound. `make soak N=20000` takes a few seconds.
soak: N = 1000000
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --messages $(N)

# The documentation site (docs/ and the API reference from docstrings) into site/; nothing is
# fetched at build time (theme.font is off, no social cards). The exported variable hides
# Material's end-of-life banner, which is not about this site.
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e . --group docs
	touch $(DOCS_STAMP)

docs: export NO_MKDOCS_2_WARNING := 1
docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis site
