"""The files an operator installs from: the dependency lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", (ROOT / "requirements.lock").read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_every_declared_dependency_is_locked_with_hashes_at_an_allowed_version():
    """A dependency added to pyproject.toml without `make lock` fails here, not on a fresh clone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += [Requirement(r) for r in extra if not r.startswith(project["name"])]
    locked = _locked()
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside pyproject.toml's {requirement}: run make lock")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text())
    assert all("--hash=sha256:" in block for block in blocks if re.match(r"[A-Za-z0-9._-]+==", block))
