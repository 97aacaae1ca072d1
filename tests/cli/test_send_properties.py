"""Whatever JSON argument ``actorflow send`` gets, the answer is an id or one error line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import cli, copy_journal

anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | anything,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(anything, inner, max_size=4),
    max_leaves=12,
)
# Objects close to what cli.Note accepts, JSON of any shape, and any text at all.
notes = st.fixed_dictionaries(
    {"text": json_values},
    optional={"forward_to": json_values, "forward_id": json_values, "type": json_values},
)
bodies = st.one_of(
    notes.map(json.dumps),
    json_values.map(json.dumps),
    anything,
    st.from_regex(r"[\[\]{}\",:0-9a-z ]{0,30}", fullmatch=True),
)


@pytest.fixture(scope="module")
def target(built_journal: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_journal(built_journal, tmp_path_factory.mktemp("fuzz") / "fuzz.db")


@settings(max_examples=150, deadline=None)
@given(body=bodies, type_=st.sampled_from(["cli.Note", "Note", "cli.Hold", "cli.Fail"]))
def test_send_never_crashes(target: Path, body: str, type_: str) -> None:
    # After "--" every argument is positional: JSON such as "-0" is not read as an option.
    result = cli(["send", "--no-wake", "--journal", str(target), "--", "carol", type_, body])
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code:
        (line,) = result.stderr.splitlines()
        assert line.startswith("actorflow: error: Invalid value for 'JSON': ")
        assert result.stdout == ""
    else:
        (sent,) = result.stdout.splitlines()
        shown = cli(["journal", "show", sent, "--json", "--journal", str(target)])
        stored = json.loads(shown.stdout)
        assert stored["recipient"] == "carol"
        assert stored["body"]["type"] == stored["type"]
