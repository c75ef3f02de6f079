"""The demo's fictional staff: who the page lets you be."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core import Actor, Conversation


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role: str
    email: str
    is_admin: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, name=self.name, email=self.email)

    @property
    def conversation(self) -> Conversation:
        return Conversation(id=f"demo-direct:{self.id}", is_direct=True)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "isAdmin": self.is_admin}


DEMO_EMAIL_DOMAIN = "demo.example"
# Fictional staff; the admin may delete anyone's room, the others only their own.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("demo-anna", "Anna Lind", "Sjuksköterska, HC Torsås", f"anna.lind@{DEMO_EMAIL_DOMAIN}"),
    DemoUser("demo-erik", "Erik Holm", "Undersköterska, avdelning 12", f"erik.holm@{DEMO_EMAIL_DOMAIN}"),
    DemoUser("demo-maria", "Maria Berg", "Administratör", f"maria.berg@{DEMO_EMAIL_DOMAIN}", is_admin=True),
)


def admin_ids(users: Iterable[DemoUser]) -> tuple[str, ...]:
    """The ids to put in the demo settings' ``admins``."""
    return tuple(user.id for user in users if user.is_admin)


def find_people(users: Iterable[DemoUser], wanted: str) -> list[Actor]:
    """The demo staff with this address or a name holding ``wanted``: the demo's people search."""
    wanted = wanted.casefold()
    return [user.actor for user in users if wanted in (user.email.casefold(), user.id)
            or wanted in user.name.casefold()]
