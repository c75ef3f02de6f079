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


@pytest.mark.parametrize("path", _modules("handlers", "cards", "bot/services", "bot/core"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_platform_code_outside_the_adapters(path):
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in PLATFORM_SDKS, f"{path} imports {name}"
        assert not name.startswith(("bot.platforms", "bot.demo")), f"{path} imports {name}"


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


def _imports_of(folder: str) -> list[tuple[Path, str]]:
    return [(path, name) for path in _modules(folder) for name in _imports(path)]


def test_adapters_import_no_service_and_not_the_app():
    """An adapter is a guest: what it may call is given to it when it is installed (bot/core/adapter.py)."""
    demo_page = [ROOT / "bot" / "demo" / module for module in ("adapter.py", "conversations.py", "users.py")]
    adapters = [(path, name) for path in _modules("bot/platforms") + demo_page for name in _imports(path)]
    for path, name in adapters:
        assert not name.startswith(("bot.services", "bot.app", "bot.runtime", "bot.dispatcher", "handlers")), \
            f"{path} imports {name}"


def test_only_the_demo_command_and_the_registry_import_the_demo():
    """The demo is an application of its own beside ``serve`` (docs/architecture.md: layout)."""
    allowed = {ROOT / "bot" / "cli" / "demo.py", ROOT / "bot" / "platforms" / "registry.py"}
    for path in _modules("bot", "handlers", "cards"):
        if path.is_relative_to(ROOT / "bot" / "demo") or path in allowed:
            continue
        for name in _imports(path):
            assert not name.startswith("bot.demo"), f"{path} imports {name}"


def test_the_dispatcher_imports_no_service():
    for name in _imports(ROOT / "bot" / "dispatcher.py"):
        assert not name.startswith(("bot.services", "bot.store", "bot.runtime", "bot.platforms", "bot.demo")), name


def test_the_core_imports_nothing_of_the_bot_but_itself_and_the_clock():
    for path, name in _imports_of("bot/core"):
        if name.startswith(("bot", "handlers", "cards")):
            assert name.startswith("bot.core") or name == "bot.clock", f"{path} imports {name}"


def test_the_store_imports_nothing_of_the_bot_but_itself_and_the_settings():
    """``bot/store/`` is the bottom layer: the schema, engine, migrations and transient-error rules."""
    for path, name in _imports_of("bot/store"):
        if name.startswith(("bot", "handlers", "cards")):
            assert name.startswith("bot.store") or name == "bot.config", f"{path} imports {name}"


def test_handlers_do_not_import_the_store():
    for path, name in _imports_of("handlers"):
        assert not name.startswith("bot.store"), f"{path} imports {name}"


def test_handlers_do_not_import_the_composition_root():
    """Handlers see the ``Context`` they declare (handlers/context.py), not what builds it."""
    for path, name in _imports_of("handlers"):
        assert not name.startswith(("bot.runtime", "bot.app", "bot.scheduler")), f"{path} imports {name}"


def test_services_import_no_platform_and_no_app():
    for path, name in _imports_of("bot/services"):
        assert not name.startswith(("bot.platforms", "bot.demo", "bot.app", "bot.runtime", "bot.scheduler")), \
            f"{path} imports {name}"


def test_the_scheduler_knows_no_adapter():
    for name in _imports(ROOT / "bot" / "scheduler.py"):
        assert not name.startswith(("bot.platforms", "bot.demo", "bot.core.adapter")), name


def test_the_scheduler_is_handed_its_passes():
    """``bot/runtime.py`` hands the timer its passes; it takes no service and no ``Services`` of its own."""
    for name in _imports(ROOT / "bot" / "scheduler.py"):
        assert not name.startswith(("bot.runtime", "bot.services", "bot.store")), name


def test_the_in_memory_platform_is_written_against_the_public_adapter_contract_only():
    """tests/harness.py: the contract and the neutral core, nothing behind them."""
    for name in _imports(ROOT / "tests" / "harness.py"):
        if name.startswith(("bot", "handlers", "cards")):
            assert name in {"bot.core", "bot.core.adapter", "bot.core.delivery"}, name


# One job per module: none in bot/ is over 300 lines but the CMS simulator, a fake of a whole API.
MODULE_LINES = 300
LONGER_MODULES = {"bot/simulators/cms.py"}


@pytest.mark.parametrize("path", [p for p in _modules("bot") if str(p.relative_to(ROOT)) not in LONGER_MODULES],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_in_the_bot_is_over_300_lines(path):
    """bot/services/ among them (issue #20); docs/architecture.md draws the modules."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES, \
        f"{path.relative_to(ROOT)} has {lines} lines (at most {MODULE_LINES}): split it by its jobs"


def _refusal_classes(paths: list[Path]) -> set[str]:
    """``Refused`` and the classes that derive from it, by name, across ``paths``."""
    bases = {node.name: {b.id for b in node.bases if isinstance(b, ast.Name)}
             for path in paths for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.ClassDef)}
    found = {"Refused"}
    while grown := {name for name, parents in bases.items() if parents & found} - found:
        found |= grown
    return found


def _is_problem_member(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _is_problem_member(node.body) and _is_problem_member(node.orelse)
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Problem"


def refusals_not_by_problem(root: Path) -> list[str]:
    """Each refusal raised in the bot with anything but a ``Problem`` member (a string code)."""
    paths = [p for folder in ("bot", "handlers", "cards") for p in (root / folder).rglob("*.py")]
    refusals = _refusal_classes(paths)
    wrong = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in refusals
                    and not (len(node.args) == 1 and _is_problem_member(node.args[0]))):
                wrong.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}")
    return wrong


def test_refusals_are_problem_members():
    assert refusals_not_by_problem(ROOT) == []


def test_a_refusal_takes_no_string_code():
    from bot.core.problems import Problem, Refused

    assert Refused(Problem.NOT_FOUND).code == "not_found"
    with pytest.raises(TypeError):
        Refused("not_found")  # type: ignore[arg-type]
