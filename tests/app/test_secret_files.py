"""Secrets from files: ``DISTANSMOTE_<NAME>_FILE`` and ``DISTANSMOTE_SECRETS_DIR`` (a Kubernetes Secret
mounted as a volume), read through the CLI against the CMS simulator, and the errors in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import SECRET_SETTINGS, Settings
from bot.platforms import registry

PASSWORD = "simulator"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in [*registry.variables(), *(f"{variable}_file" for variable in registry.variables()), "secrets_dir"]:
        monkeypatch.delenv(f"DISTANSMOTE_{name.upper()}", raising=False)


def test_every_secret_setting_is_a_setting():
    assert set(SECRET_SETTINGS) <= set(Settings.model_fields)
    secret_typed = {name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)}
    assert secret_typed <= set(SECRET_SETTINGS)


def test_a_password_file_reaches_the_cms(monkeypatch, capsys, tmp_path, cli_cms_url):
    (tmp_path / "cms-password").write_text(PASSWORD + "\n")  # as `echo` and editors write it
    monkeypatch.setenv("DISTANSMOTE_CMS_URL", cli_cms_url)
    monkeypatch.setenv("DISTANSMOTE_CMS_USERNAME", "api")
    monkeypatch.setenv("DISTANSMOTE_CMS_PASSWORD_FILE", str(tmp_path / "cms-password"))
    assert main(["cms", "check"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("CMS OK")


def test_a_secrets_directory_reaches_the_cms(monkeypatch, capsys, tmp_path, cli_cms_url):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "DISTANSMOTE_CMS_PASSWORD").write_text(PASSWORD)
    (secrets / "DISTANSMOTE_CMS_USERNAME").write_text("api")
    monkeypatch.setenv("DISTANSMOTE_CMS_URL", cli_cms_url)
    monkeypatch.setenv("DISTANSMOTE_SECRETS_DIR", str(secrets))
    assert main(["cms", "check"]) == 0, capsys.readouterr().err


def test_a_wrong_password_in_the_file_is_refused_by_the_cms(monkeypatch, capsys, tmp_path, cli_cms_url):
    (tmp_path / "cms-password").write_text("not-the-password")
    monkeypatch.setenv("DISTANSMOTE_CMS_URL", cli_cms_url)
    monkeypatch.setenv("DISTANSMOTE_CMS_USERNAME", "api")
    monkeypatch.setenv("DISTANSMOTE_CMS_PASSWORD_FILE", str(tmp_path / "cms-password"))
    assert main(["cms", "check"]) == 1
    assert "wrong username or password" in capsys.readouterr().err


@pytest.mark.parametrize(("variables", "message"), [
    ({"DISTANSMOTE_WEBEX_TOKEN_FILE": "/nonexistent/webex-token"},
     "DISTANSMOTE_WEBEX_TOKEN_FILE: cannot read /nonexistent/webex-token (No such file or directory)"),
    ({"DISTANSMOTE_CMS_PASSWORD_FILE": "{tmp}/a-file", "DISTANSMOTE_CMS_PASSWORD": "in-the-environment"},
     "DISTANSMOTE_CMS_PASSWORD_FILE: DISTANSMOTE_CMS_PASSWORD is set too; set one of them"),
    ({"DISTANSMOTE_SECRETS_DIR": "/nonexistent/secrets"},
     "DISTANSMOTE_SECRETS_DIR: /nonexistent/secrets is not a directory"),
])
def test_a_secret_file_that_cannot_be_used_is_one_line(monkeypatch, capsys, tmp_path, variables, message):
    (tmp_path / "a-file").write_text("in-a-file")
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"distansmote: configuration error: {message}"]
    assert "in-a-file" not in captured.err and "in-the-environment" not in captured.err
