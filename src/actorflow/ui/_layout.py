"""The frame of every page: head (local CSS and JS only, U2), navigation, the write mode."""

from __future__ import annotations

from typing import Final

from ._html import Html, tag
from ._settings import UiSettings

__all__ = ["NAV", "form", "page", "status_badge"]

NAV: Final = (
    ("conversations", "/", "Conversations"),
    ("actors", "/actors", "Actors"),
    ("dead", "/dead", "Dead letters"),
    ("timers", "/timers", "Timers"),
    ("stats", "/stats", "Stats"),
)


def page(settings: UiSettings, title: str, *body: object, current: str = "") -> Html:
    """A whole HTML page: `title` in the head and as its heading, then `body`."""
    links = [
        tag("a", label, href=href, class_="current" if key == current else None)
        for key, href, label in NAV
    ]
    mode = (
        tag("span", "writes allowed", class_="mode writes")
        if settings.allow_writes
        else tag("span", "read-only", class_="mode", title="start with --allow-writes to write")
    )
    head = tag(
        "head",
        tag("meta", charset="utf-8"),
        tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
        tag("title", f"{title} · actorflow"),
        tag("link", rel="stylesheet", href="/assets/ui.css"),
        tag("script", src="/assets/ui.js", defer=True),
    )
    header = tag(
        "header",
        tag("a", "actorflow", href="/", class_="brand"),
        tag("span", settings.journal_name, class_="journal", title=settings.journal_location),
        tag("nav", links),
        mode,
    )
    main = tag("main", tag("h1", title), body)
    return Html("<!doctype html>\n" + tag("html", head, tag("body", header, main), lang="en"))


def form(settings: UiSettings, action: str, label: str, **fields: str) -> Html:
    """A POST form of one button, with its hidden fields and the form secret."""
    hidden = [tag("input", type="hidden", name=name, value=value) for name, value in fields.items()]
    return tag(
        "form",
        hidden,
        tag("input", type="hidden", name="form_secret", value=settings.form_secret),
        tag("button", label, type="submit"),
        method="post",
        action=action,
        class_="action",
    )


def status_badge(status: str) -> Html:
    return tag("span", status, class_=f"status status-{status}")
