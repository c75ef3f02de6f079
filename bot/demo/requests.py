"""The demo page's requests: their bodies as pydantic models with the bounds on what a page may send, read and
validated (a ``BadRequest`` otherwise, never echoing the input)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.platforms.http import BodyRefused, parse_json, read_body

# Bounds on what a page may send: a chat line, a card's inputs, and the whole body.
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT = 2000
MAX_INPUTS = 50
MAX_INPUT_KEY = 100
MAX_INPUT_VALUE = 2000
MAX_WAIT_SECONDS = 25.0


UserId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
InputKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_INPUT_KEY)]
InputValue = Annotated[str, StringConstraints(max_length=MAX_INPUT_VALUE)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    user: UserId


class TypedMessage(_Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]


class CardSubmission(_Body):
    """Like a Webex attachment action: the inputs with the Action.Submit data merged in."""

    inputs: dict[InputKey, InputValue] = Field(max_length=MAX_INPUTS)


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    user: UserId
    after: int = Field(default=0, ge=0)
    wait: float = Field(default=0.0, ge=0.0, le=MAX_WAIT_SECONDS)


class BadRequest(Exception):
    def __init__(self, status: int, error: str, details: list[dict[str, Any]] | None = None,
                 messages: list[dict[str, Any]] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.details = details
        self.messages = messages  # chat messages to show beside the error


B = TypeVar("B", bound=BaseModel)


def validated(model: type[B], value: object) -> B:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        # Never echo the input back: it may hold something that must not be repeated.
        details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_input=False)]
        raise BadRequest(400, "invalid request", details) from None


async def read_json(request: web.Request) -> object:
    if request.content_type != "application/json":
        raise BadRequest(400, "expected application/json")
    try:
        return parse_json(await read_body(request, limit=MAX_BODY_BYTES))
    except BodyRefused as refused:
        raise BadRequest(refused.status, refused.error) from None
