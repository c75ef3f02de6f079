"""Reading replies, cards and stored text as a person would, to find what must never show."""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from bot.logs import JsonFormatter, TextFormatter


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


_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


def _numbers_read_anyhow(text: str) -> list[str]:
    """The runs of digits in ``text`` when everything but a letter may stand between two digits,
    after the encodings a number could hide behind (JSON and HTML escapes, percent-encoding)."""
    text = unquote(html.unescape(_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)))
    runs, run = [], []
    for char in unicodedata.normalize("NFKC", text):
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            run.append(str(digit))
        elif unicodedata.category(char).startswith("L") and char not in "\u115f\u1160\u3164\uffa0":
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    return runs


def shows_number_anyhow(digits: str, *shown: Any) -> bool:
    """Whether the number with these ten digits shows anywhere in ``shown`` with anything but letters
    between its digits (a leak in whatever spelling it came). Other digits may join it: rarely a
    false alarm, never a miss."""
    return bool(numbers_shown_anyhow([digits], *shown))


def numbers_shown_anyhow(numbers: Iterable[str], *shown: Any) -> list[str]:
    """Those of ``numbers`` that :func:`shows_number_anyhow` finds in ``shown`` (read once)."""
    runs = "\n".join(run for text in strings_in(shown) for run in _numbers_read_anyhow(text))
    return [digits for digits in numbers if digits in runs]


class LogLines(logging.Handler):
    """Every log line as the bot would write it, in text and in JSON (``bot.logs``), without the time
    (its digits could join into any number; it never holds what a person typed)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.INFO)
        self._into = into
        self._formats = (TextFormatter(), JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        timeless = logging.makeLogRecord({**record.__dict__, "created": 0.0, "msecs": 0.0})
        self._into.extend(_TIME.sub("", form.format(timeless)) for form in self._formats)


@contextmanager
def log_lines_into(lines: list[str]) -> Iterator[None]:
    """Every log line at INFO and above (the product's level in production) goes into ``lines``."""
    root, handler = logging.getLogger(), LogLines(lines)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


_TIME = re.compile(r"1970-01-01[ T]00:00:00[,.]000(\+00:00)?")
