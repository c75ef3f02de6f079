"""What a handler gets with each event, built once by the dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.core import Event
from bot.runtime import Services
from bot.services.meetings import Person


@dataclass(frozen=True)
class Context:
    """``operation`` is the event's key: a change made under it is made once, however often the
    event runs (an earlier run may have died after making it; ``bot.dispatcher``)."""

    person: Person
    services: Services
    operation: str

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock


def context_for(services: Services) -> Callable[[Event], Context]:
    """The dispatcher's context factory: who acts (admin if an id or the e-mail is in ADMINS)."""

    def build(event: Event) -> Context:
        actor = event.actor
        person = Person(key=event.person_key, name=actor.name,
                        is_admin=services.settings.is_admin(actor.id, actor.email))
        return Context(person=person, services=services, operation=event.dedupe_key)

    return build
