"""``distansmote teams package``: the zip validates against Microsoft's schema, offline.

The schema is the copy bundled in the npm package ``@microsoft/app-manifest`` (pinned in
package.json; ``npm ci`` installs it), chosen by the manifest's own ``$schema``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from bot.cli import main
from bot.platforms.teams.package import manifest

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
APP_ID = "1f2e3d4c-0000-4000-8000-123456789abc"


def _schema_for(app_manifest: dict[str, Any]) -> dict[str, Any]:
    found = re.fullmatch(r"https://developer\.microsoft\.com/json-schemas/teams/(v[\d.]+)/MicrosoftTeams\.schema\.json",
                         app_manifest["$schema"])
    assert found, app_manifest["$schema"]
    path = SCHEMAS / found[1] / "MicrosoftTeams.schema.json"
    assert path.exists(), "run `npm ci`: the schema comes from @microsoft/app-manifest"
    return json.loads(path.read_text(encoding="utf-8-sig"))


PUBLIC_URL = "https://bot.region.example"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DISTANSMOTE_PUBLIC_URL", PUBLIC_URL)


@pytest.fixture
def package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> zipfile.ZipFile:
    out = tmp_path / "out" / "distansmote.zip"
    assert main(["teams", "package", "--app-id", APP_ID.upper(), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    return zipfile.ZipFile(out)


def test_the_package_validates_against_the_official_schema(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]  # all at the top level
    app_manifest = json.loads(package.read("manifest.json"))
    schema = _schema_for(app_manifest)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER).iter_errors(app_manifest)]
    assert errors == []
    # Draft 4 ignores "const", so the schema cannot check this itself.
    assert app_manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"] == "1.30"
    assert {app_manifest["icons"]["color"], app_manifest["icons"]["outline"]} <= set(package.namelist())


def test_the_manifest_is_the_bot_in_swedish(package: zipfile.ZipFile) -> None:
    app_manifest = json.loads(package.read("manifest.json"))
    assert app_manifest["id"] == APP_ID
    [bot] = app_manifest["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert app_manifest["localizationInfo"]["defaultLanguageTag"] == "sv-se"
    [commands] = bot["commandLists"]
    assert sorted(commands["scopes"]) == ["groupChat", "personal", "team"]
    assert [c["title"] for c in commands["commands"]] == ["ny", "lista", "hjälp", "ta bort", "status", "rapport"]
    assert all(c["description"] for c in commands["commands"])
    assert "personnummer" in app_manifest["description"]["full"]  # staff are told what never to type


def test_the_icons_have_the_sizes_and_transparency_teams_requires(package: zipfile.ZipFile) -> None:
    color = Image.open(io.BytesIO(package.read("color.png")))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert color.convert("RGBA").getextrema()[3] == (255, 255)  # full colour, no transparent pixel
    assert len(color.getcolors(192 * 192)) > 2  # not a blank square

    outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    pixels = [outline.getpixel((x, y)) for x in range(32) for y in range(32)]
    assert outline.getpixel((0, 0))[3] == 0  # transparent background
    visible = [p for p in pixels if p[3] > 0]
    assert 32 < len(visible) < 32 * 32 // 2  # an outline, not a filled square
    assert {p[:3] for p in visible} == {(255, 255, 255)}  # white only


def test_a_wrong_app_id_is_refused_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams", "package", "--app-id", "not-a-guid", "--out", str(tmp_path / "x.zip")]) == 2
    assert "--app-id" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_without_url_flags_the_app_links_the_bots_own_pages(package: zipfile.ZipFile) -> None:
    developer = json.loads(package.read("manifest.json"))["developer"]
    assert (developer["privacyUrl"], developer["termsOfUseUrl"], developer["websiteUrl"]) == (
        f"{PUBLIC_URL}/privacy", f"{PUBLIC_URL}/terms", f"{PUBLIC_URL}/privacy")


def test_without_a_public_url_or_the_flags_it_says_what_to_set(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DISTANSMOTE_PUBLIC_URL")
    out = tmp_path / "x.zip"
    assert main(["teams", "package", "--app-id", APP_ID, "--out", str(out), "--privacy-url",
                 "https://region.example/integritet"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("distansmote: configuration error: DISTANSMOTE_PUBLIC_URL: ")
    assert line.endswith("or pass --website-url, --terms-of-use-url") and not out.exists()


def test_the_publisher_and_the_pages_can_be_named(tmp_path: Path) -> None:
    developer = {"name": "Region Kalmar län", "privacyUrl": "https://region.example/integritet"}
    app_manifest = manifest(APP_ID, developer=developer, public_url=PUBLIC_URL)
    assert app_manifest["developer"]["name"] == "Region Kalmar län"
    assert app_manifest["developer"]["privacyUrl"] == "https://region.example/integritet"
    assert app_manifest["developer"]["termsOfUseUrl"] == f"{PUBLIC_URL}/terms"
