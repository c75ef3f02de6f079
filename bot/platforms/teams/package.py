"""``distansmote teams package``: the zip an administrator uploads to Teams.

The template and the icons live in ``manifest/``. The package is ``manifest.json`` with the
bot's app id and the product's version filled in, and both icons, all at the top level of the
zip (learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/apps-package).
"""

from __future__ import annotations

import json
import uuid
import zipfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from bot.config import ConfigError

ICONS = ("color.png", "outline.png")
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the same input gives the same bytes


# The developer links the template leaves to be filled in, and the bot's own page for each.
OWN_PAGES = {"websiteUrl": "/privacy", "privacyUrl": "/privacy", "termsOfUseUrl": "/terms"}


def manifest(app_id: str, *, version: str | None = None, developer: dict[str, str] | None = None,
             public_url: str | None = None) -> dict[str, Any]:
    """The template with ids and version filled in.

    The Teams app id is the bot's app id: one registration, one app, and uploading a newer
    package replaces the app instead of adding a second one. The privacy statement, terms and
    website are the bot's own pages at ``public_url`` (``DISTANSMOTE_PUBLIC_URL``) unless
    ``developer`` names others.
    """
    try:
        app_id = str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise ConfigError("--app-id: the Azure Bot's Microsoft App ID, a GUID such as "
                          "1f2e3d4c-0000-4000-8000-123456789abc") from None
    template = json.loads((resources.files("manifest") / "manifest.json").read_text(encoding="utf-8"))
    template["id"] = app_id
    template["version"] = version or metadata.version("distansmote")
    template["bots"][0]["botId"] = app_id
    if public_url:
        template["developer"].update({key: public_url.rstrip("/") + path for key, path in OWN_PAGES.items()})
    template["developer"].update({key: value for key, value in (developer or {}).items() if value})
    if unset := [key for key in OWN_PAGES if "example.invalid" in template["developer"][key]]:
        raise ConfigError("DISTANSMOTE_PUBLIC_URL: set the bot's public https address (the app links its "
                          f"/privacy and /terms pages), or pass {', '.join(_FLAGS[key] for key in unset)}")
    return template


_FLAGS = {"websiteUrl": "--website-url", "privacyUrl": "--privacy-url", "termsOfUseUrl": "--terms-of-use-url"}


def write_package(out: Path, app_manifest: dict[str, Any]) -> Path:
    """Write the zip; its entries are at the top level, as Teams requires."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entries = {"manifest.json": json.dumps(app_manifest, ensure_ascii=False, indent=2).encode()}
        entries.update({name: (resources.files("manifest") / name).read_bytes() for name in ICONS})
        for name, data in entries.items():
            package.writestr(zipfile.ZipInfo(name, ZIP_DATE), data, compress_type=zipfile.ZIP_DEFLATED)
    return out
