"""The bot's own web pages (``GET /privacy``, ``GET /terms``): Swedish HTML from cards.texts."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from cards import texts

Sections = Sequence[tuple[str, Sequence[str]]]


def privacy_page(*, retention_days: int, auto_delete_hours: int) -> str:
    return _page(texts.PRIVACY_PAGE_TITLE, texts.PRIVACY_PAGE, days=retention_days, hours=auto_delete_hours)


def terms_page() -> str:
    return _page(texts.TERMS_PAGE_TITLE, texts.TERMS_PAGE)


def _page(title: str, sections: Sections, **values: int) -> str:
    body = "\n".join(
        f"<h2>{escape(heading)}</h2>\n" + "\n".join(f"<p>{escape(paragraph.format(**values))}</p>"
                                                  for paragraph in paragraphs)
        for heading, paragraphs in sections)
    return ('<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
            "line-height:1.5}</style></head>\n"
            f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n")
