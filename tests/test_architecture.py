"""Dependencies run one way: only adapters import platform SDKs; services know no platform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_SDKS = {"webexpythonsdk", "webexteamssdk", "microsoft_agents", "botbuilder"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


@pytest.mark.parametrize("path", _modules("handlers", "cards", "bot/services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_platform_code_outside_the_adapters(path):
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in PLATFORM_SDKS, f"{path} imports {name}"
        assert not name.startswith("bot.platforms"), f"{path} imports {name}"


@pytest.mark.parametrize("path", _modules("cards"), ids=lambda p: str(p.relative_to(ROOT)))
def test_cards_do_no_io(path):
    for name in _imports(path):
        assert name.split(".")[0] not in {"aiohttp", "sqlalchemy", "requests", "handlers", "asyncio"}, name


@pytest.mark.parametrize("path", _modules("bot/services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_do_not_import_handlers_or_cards(path):
    for name in _imports(path):
        assert name.split(".")[0] not in {"handlers", "cards"}, f"{path} imports {name}"


def test_tests_cannot_reach_beyond_loopback():
    import socket

    with pytest.raises(Exception, match="(?i)socket|host"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
