"""Whatever text the filters of ``journal messages`` get, the answer is rows or one error line."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from .support import cli

# Any text, including lone surrogates (what undecodable bytes in argv become), and values
# close to what the parsers accept.
anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
times = st.one_of(
    anything,
    st.from_regex(r"[0-9]{1,6}(\.[0-9])?[smhdwy]{1,2}", fullmatch=True),
    st.datetimes().map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:+.Z-]{0,12}", fullmatch=True),
)


@settings(max_examples=150, deadline=None)
@given(
    actor=st.none() | anything,
    type_=st.none() | anything,
    conversation=st.none() | anything,
    since=st.none() | times,
    until=st.none() | times,
    as_json=st.booleans(),
)
def test_filters_never_crash(
    built_journal: Path,
    actor: str | None,
    type_: str | None,
    conversation: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    args = ["journal", "messages", "--journal", str(built_journal)]
    for option, value in (
        ("--actor", actor),
        ("--type", type_),
        ("--conversation", conversation),
        ("--since", since),
        ("--until", until),
    ):
        if value is not None:
            args += [option, value]
    if as_json:
        args.append("--json")
    result = cli(args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code != 0:
        (line,) = result.stderr.splitlines()
        assert line.startswith("actorflow: error: ")
    elif as_json:
        for line in result.stdout.splitlines():
            assert json.loads(line)["id"].startswith("m-")
