"""Actor and supervisor names are Unicode text in one normal form, NFC, wherever they enter.

``"école"`` can be typed as one code point for ``é`` (NFC, what keyboards send) or as ``e`` and
a combining accent (NFD, what some file systems and tools produce). Both look the same, so every
door that takes a name (spawn, lookup, specs, the CLI) turns it into NFC before it is compared
or stored; the journal holds NFC names.
"""

from __future__ import annotations

import unicodedata

__all__ = ["name_forms", "normal_name"]


def normal_name(name: str) -> str:
    """`name` in Unicode normal form NFC."""
    return unicodedata.normalize("NFC", name)


def name_forms(name: str) -> tuple[str, ...]:
    """The spellings a stored name matching `name` may have: as given, NFC and NFD, no repeats.

    For reading journals written before names were normalised, which may hold a name in NFD.
    """
    forms = (name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name))
    return tuple(dict.fromkeys(forms))
