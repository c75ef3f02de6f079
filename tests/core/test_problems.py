"""Every reason to refuse has its Swedish answer, and the router refuses a route registered twice."""

from __future__ import annotations

import pytest

from bot.core import Command, DuplicateRouteError, Problem, Router
from cards import texts
from cards.messages import refusal


@pytest.mark.parametrize("problem", list(Problem))
def test_each_problem_has_a_text(problem: Problem) -> None:
    sources = [texts.ERRORS, texts.ALREADY_DONE, texts.UNROUTABLE]
    assert sum(problem in source for source in sources) >= 1
    [reply] = refusal(problem)
    assert reply.text and reply.text != texts.INTERNAL_ERROR and reply.card is not None


def test_every_worded_problem_is_a_problem() -> None:
    worded = set(texts.ERRORS) | set(texts.ALREADY_DONE) | set(texts.UNROUTABLE)
    assert worded == {problem.value for problem in Problem}


async def _answer(command: Command, ctx: object) -> list:
    return []


def test_the_fallback_is_registered_once_like_any_route() -> None:
    first, second = Router(), Router()
    first.fallback(_answer)
    second.fallback(_answer)
    with pytest.raises(DuplicateRouteError, match="fallback"):
        first.include(second)
    first.command("ny")(_answer)
    with pytest.raises(DuplicateRouteError, match="'ny'"):
        first.command("ny")(_answer)
    assert first.resolve_command("okänt") is _answer
