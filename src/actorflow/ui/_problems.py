"""What a request can get wrong, each with its HTTP status and a sentence for the page."""

from __future__ import annotations

__all__ = ["BadParameter", "NotFound", "PageError", "ReadOnly"]


class PageError(Exception):
    """Raised by a page when it cannot be shown; the app answers with an error page."""

    status = 500
    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadParameter(PageError):
    """Raised when a query parameter (a filter) or a form field has a value the page cannot
    use; the page names it."""

    status = 400
    title = "Bad request"

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


class NotFound(PageError):
    """Raised when the journal has nothing with the id a page was asked for."""

    status = 404
    title = "Not found"


class ReadOnly(PageError):
    """Raised for a write to a UI started without ``--allow-writes`` (U2)."""

    status = 403
    title = "Read-only"
