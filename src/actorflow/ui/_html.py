"""HTML built from escaped parts: every value from a journal goes through `escape`.

`Html` marks text that is already markup; anything else put into a tag (a message body, an
actor's name, an error) is escaped on the way in, so that hostile journal content is shown as
text and never runs. Pages are built by nesting `tag` calls, not by formatting strings.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Final

__all__ = ["Html", "escape", "join", "tag"]

_VOID: Final = frozenset({"br", "hr", "img", "input", "link", "meta"})


class Html(str):
    """Text that is markup already: put into a page as it is."""

    __slots__ = ()


def escape(value: object) -> Html:
    """`value` as markup: `Html` as it is, anything else as escaped text."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Html:
    """The parts one after another, each escaped unless it is `Html`; None and False are left
    out, and nested lists or generators are flattened."""
    out: list[str] = []
    iterators = [iter(parts)]  # not recursive: a deep tree is deeply nested parts
    while iterators:
        try:
            part = next(iterators[-1])
        except StopIteration:
            iterators.pop()
            continue
        if part is None or part is False:
            continue
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Iterable):
            iterators.append(iter(part))
        else:
            out.append(escape(part))
    return Html("".join(out))


def tag(element: str, /, *children: object, **attributes: object) -> Html:
    """``<element attributes>children</element>``, children and attribute values escaped.

    An attribute named ``class_`` is ``class``, underscores are dashes (``data_poll`` is
    ``data-poll``); a value of None or False leaves the attribute out, True writes it bare.
    """
    attrs: list[str] = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        if value is True:
            attrs.append(f" {attr}")
        else:
            attrs.append(f' {attr}="{escape(value)}"')
    opening = f"<{element}{''.join(attrs)}>"
    if element in _VOID:
        return Html(opening)
    return Html(f"{opening}{join(children)}</{element}>")
