"""The files an operator installs from: the dependency locks, Dockerfile, systemd unit, .env.example."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import ENV_PREFIX, Settings
from bot.platforms import registry

ROOT = Path(__file__).resolve().parents[2]


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    assert all("--hash=sha256:" in block for block in blocks if re.match(r"[A-Za-z0-9._-]+==", block)), name
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.M)
    return {canonicalize_name(package): version for package, version in pins}


def test_every_declared_dependency_is_locked_with_hashes_at_an_allowed_version():
    """A dependency added to pyproject.toml without `make lock` fails here, not on a fresh clone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["postgres"]]
    tools = [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra
             if not r.startswith(project["name"])]
    full, service = _locked("requirements.lock"), _locked("requirements-runtime.lock")
    for lock, declared in (("requirements.lock", runtime + tools), ("requirements-runtime.lock", runtime)):
        pins = _locked(lock)
        for requirement in declared:
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{requirement.name} is in pyproject.toml but not in {lock}: run make lock"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{lock} pins {name}=={pins[name]}, outside pyproject.toml's {requirement}: run make lock")
    # The container runs exactly the versions the tests ran.
    assert {name: full.get(name) for name in service} == service
    assert "pytest" not in service and "playwright" not in service


# Loaded by SQLAlchemy from the database URL's scheme, never imported by name.
URL_DRIVERS = {"aiosqlite", "asyncpg"}


def test_every_declared_runtime_dependency_is_imported_by_the_code():
    """A package declared and never imported is one more to install, update and trust for nothing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(r).name)
                for r in project["dependencies"] + project["optional-dependencies"]["postgres"]}
    imported: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py"), *ROOT.glob("cards/**/*.py")]:
        imported |= set(re.findall(r"^\s*(?:from|import) ([A-Za-z_][\w.]*)", path.read_text(), re.M))
    providers = packages_distributions()
    # A namespace package (microsoft_agents) belongs to several distributions: those are matched by
    # the full module name instead (microsoft_agents.hosting.core -> microsoft-agents-hosting-core).
    used = {canonicalize_name(providers[prefix][0]) for module in imported for prefix in _prefixes(module)
            if len(providers.get(prefix, ())) == 1}
    used |= {canonicalize_name(prefix) for module in imported for prefix in _prefixes(module)}
    assert declared - used - URL_DRIVERS == set()


def _prefixes(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _tool(name: str) -> str:
    """A console script installed with the test extra, next to this interpreter."""
    path = Path(sysconfig.get_path("scripts")) / name
    assert path.exists(), f"{name} is missing: make install installs it from requirements.lock"
    return str(path)


def test_dockerfile_passes_hadolint_and_runs_migrations_then_serve_as_non_root():
    result = subprocess.run([_tool("hadolint"), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (ROOT / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER (?!root|0\b)", final_stage, re.M)
    assert "-slim" in final_stage.splitlines()[0]
    assert "--require-hashes" in dockerfile and "requirements-runtime.lock" in dockerfile
    # Every stage from one base, pinned by digest; the image says what it is.
    bases = set(re.findall(r"^FROM (\S+)", dockerfile, re.M))
    assert len(bases) == 1 and re.fullmatch(r"python:3\.11-slim-\w+@sha256:[0-9a-f]{64}", bases.pop())
    for label in ("title", "description", "version", "revision", "base.name", "base.digest"):
        assert f"org.opencontainers.image.{label}=" in final_stage


def _exec_form(dockerfile: str, instruction: str) -> list[str]:
    line = re.search(rf"^{instruction} (\[.*\])$", dockerfile, re.M)
    assert line, f"{instruction} is in exec form (a JSON list), so that `docker run IMAGE ARGS` reaches it"
    return list(json.loads(line[1]))


@pytest.mark.parametrize(("arguments", "runs"), [
    (None, [["db", "upgrade"], ["serve", "--host", "0.0.0.0", "--port", "8080"]]),
    (["check"], [["check"]]),
    (["db", "upgrade"], [["db", "upgrade"]]),
    (["report", "--from", "2026-11-01", "--format", "csv"], [["report", "--from", "2026-11-01", "--format", "csv"]]),
    (["serve", "--port", "9000"], [["db", "upgrade"], ["serve", "--port", "9000"]]),
    (["audit", "export", "--since", "2026-11-01 08:00"], [["audit", "export", "--since", "2026-11-01 08:00"]]),
])
def test_docker_run_arguments_reach_the_cli(tmp_path, arguments, runs):
    """The image's ENTRYPOINT and CMD as `docker run IMAGE [ARGUMENTS]` runs them, with a recording
    ``distansmote`` on PATH in place of the real one."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint, command = _exec_form(dockerfile, "ENTRYPOINT"), _exec_form(dockerfile, "CMD")
    assert entrypoint == ["/usr/local/bin/distansmote-entrypoint"]
    assert "deploy/docker-entrypoint.sh /usr/local/bin/distansmote-entrypoint" in dockerfile
    record = tmp_path / "runs.jsonl"
    stub = tmp_path / "bin" / "distansmote"
    stub.parent.mkdir()
    stub.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({str(record)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    stub.chmod(0o755)
    result = subprocess.run([str(ROOT / "deploy" / "docker-entrypoint.sh"),
                             *(command if arguments is None else arguments)],
                            env={"PATH": f"{stub.parent}:/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in record.read_text().splitlines()] == runs


def test_docker_entrypoint_does_not_serve_when_the_migration_fails(tmp_path):
    stub = tmp_path / "distansmote"
    stub.write_text('#!/bin/sh\n[ "$1" = db ] && exit 2\necho serving\n')
    stub.chmod(0o755)
    result = subprocess.run([str(ROOT / "deploy" / "docker-entrypoint.sh"), "serve"],
                            env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout) == (2, "")


def test_systemd_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    # The unit names the installed path; verify checks that the commands exist, so point them here.
    unit = (ROOT / "deploy" / "distansmote.service").read_text()
    assert "ExecStartPre=/opt/distansmote/venv/bin/distansmote db upgrade" in unit
    (tmp_path / "distansmote.service").write_text(unit.replace("/opt/distansmote/venv", sys.prefix))
    result = subprocess.run([analyze, "verify", str(tmp_path / "distansmote.service")],
                            capture_output=True, text=True, timeout=60)
    # Unknown keys are only warnings: any output is a finding.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_env_example_lists_every_setting_once_with_its_meaning_and_true_defaults():
    lines = (ROOT / ".env.example").read_text().splitlines()
    entries: dict[str, str] = {}
    for number, line in enumerate(lines):
        match = re.fullmatch(rf"(?:# )?{ENV_PREFIX}([A-Z0-9_]+)=(.*)", line)
        if match is None:
            continue
        field, value = match[1].lower(), match[2]
        assert field not in entries, f"{match[1]} twice"
        entries[field] = value
        above = lines[number - 1]
        assert above.startswith("# ") and ENV_PREFIX not in above, (
            f"{match[1]}: the line above says what it means")
    variables = registry.variables()
    assert set(entries) == set(variables), "the settings (bot/config.py, the platforms') and .env.example differ"
    for field, value in entries.items():
        model, name = variables[field]
        default = model.model_fields[name].default
        if value and default not in (None, ()):
            settings = Settings(_env_file=None, **{field: value})
            shown = getattr(settings if model is Settings else settings.platform(model), name)  # type: ignore[arg-type]
            assert shown == default, f"{field}: .env.example shows {value!r}, the default is {default!r}"
    # As written it loads (a copy someone forgets to edit still starts with the defaults).
    settings = Settings(_env_file=ROOT / ".env.example")
    for platform in registry.PLATFORMS:
        if platform.settings is not None:
            settings.platform(platform.settings)
