"""The registry of platforms (bot/platforms/registry.py): cheap to read, and read by nothing below it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bot.platforms import registry

ROOT = Path(__file__).resolve().parents[2]


def test_each_platform_is_listed_once_by_its_own_name():
    names = [platform.name for platform in registry.PLATFORMS]
    assert names == ["webex", "teams", "demo"]
    assert [platform.title for platform in registry.PLATFORMS if platform.check] == ["Webex", "Teams"]


def test_reading_the_registry_loads_no_platform_sdk():
    """`distansmote db upgrade` reads the settings of every platform; it need not load their SDKs."""
    probe = ("import sys, bot.platforms.registry; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'webexpythonsdk', 'microsoft_agents'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def test_the_settings_import_no_platform():
    """Every service imports bot/config.py: the platforms' settings nest in it without it importing them."""
    tree = ast.parse((ROOT / "bot" / "config.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not [name for name in imported if name.startswith(("bot.platforms", "bot.core"))]
