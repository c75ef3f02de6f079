"""Reading replies, cards and stored text as a person would, to find what must never show."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any


def strings_in(value: Any, *, keys: bool = True) -> Iterator[str]:
    """Every string in a reply, a card or an API answer (keys too), however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield str(key)
            yield from strings_in(item, keys=keys)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item, keys=keys)


class _Reading(dict[int, str]):
    """Each character as a reader sees it in a number, worked out once (``str.translate`` table)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isspace() or char == "." or unicodedata.category(char) in ("Pd", "Cf"):
            seen = ""
        else:
            seen = str(unicodedata.decimal(char, char))
        self[code] = seen
        return seen


_READING = _Reading()


def as_read(text: str) -> str:
    """``text`` as a reader sees its numbers: whitespace, dashes, dots and invisible characters
    gone, every digit form ASCII. Written apart from the guard's own, so a test does not trust it."""
    return unicodedata.normalize("NFKC", text).translate(_READING)


def shows_number(digits: str, *shown: Any) -> bool:
    """Whether the number with these ten digits shows anywhere in ``shown``, in any spelling."""
    return any(digits in as_read(text) for text in strings_in(shown))
