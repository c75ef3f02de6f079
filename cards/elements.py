"""Small builders for Adaptive Card 1.3 elements, so card functions read as layouts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.core import CardAction

Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.3"
MAX_ACTIONS = 5


def card(body: Sequence[Element], *, fallback: str, actions: Sequence[Element] = ()) -> dict[str, Any]:
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"a card may have at most {MAX_ACTIONS} actions (Webex)")
    result: dict[str, Any] = {
        "type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
        "fallbackText": fallback, "body": list(body),
    }
    if actions:
        result["actions"] = list(actions)
    return result


def title(text: str) -> Element:
    return {"type": "TextBlock", "text": text, "size": "Large", "weight": "Bolder", "wrap": True}


def heading(text: str) -> Element:
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "wrap": True, "spacing": "Medium"}


def text(value: str, *, subtle: bool = False, attention: bool = False, monospace: bool = False) -> Element:
    element: Element = {"type": "TextBlock", "text": value, "wrap": True}
    if subtle:
        element["isSubtle"] = True
    if attention:
        element.update(color="Attention", weight="Bolder")
    if monospace:
        element["fontType"] = "Monospace"
    return element


def facts(pairs: Iterable[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def text_input(input_id: str, label: str, *, value: str = "", placeholder: str = "",
               max_length: int | None = None) -> Element:
    element: Element = {"type": "Input.Text", "id": input_id, "label": label}
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if max_length:
        element["maxLength"] = max_length
    return element


def date_input(input_id: str, label: str, *, value: str, min_value: str) -> Element:
    return {"type": "Input.Date", "id": input_id, "label": label, "value": value, "min": min_value}


def time_input(input_id: str, label: str, *, value: str) -> Element:
    return {"type": "Input.Time", "id": input_id, "label": label, "value": value}


def choices(input_id: str, label: str, options: Mapping[str, str], *, value: str = "",
            compact: bool = True, placeholder: str = "") -> Element:
    element: Element = {
        "type": "Input.ChoiceSet", "id": input_id, "label": label,
        "style": "compact" if compact else "expanded",
        "choices": [{"title": t, "value": v} for v, t in options.items()],
    }
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    return element


def submit(label: str, action: type[CardAction], *, style: str | None = None, **data: str) -> Element:
    element: Element = {"type": "Action.Submit", "title": label, "data": action.submit_data(**data)}
    if style:
        element["style"] = style
    return element
