"""HTTP clients to the outside (CMS, the Teams connector): the region's proxy and CA bundle (docs/operations.md).

aiohttp reads the proxy only with ``trust_env``, and its default SSL context is made when it is imported, so sessions
are made here; :func:`share_ca_bundle` gives requests (the Webex SDK, MSAL) the one CA bundle that is set.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI calls share_ca_bundle before every command: no aiohttp for that
    import aiohttp

CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def ca_bundle() -> str | None:
    """The CA bundle the environment names, if any."""
    return next((os.environ[name] for name in CA_VARIABLES if os.environ.get(name)), None)


def share_ca_bundle() -> None:
    """Make the CA bundle that is set reach Python's ssl and requests alike (at start-up)."""
    if bundle := ca_bundle():
        os.environ.setdefault("SSL_CERT_FILE", bundle)
        os.environ.setdefault("REQUESTS_CA_BUNDLE", bundle)


@functools.lru_cache(maxsize=4)
def _ssl_context(bundle: str | None) -> ssl.SSLContext:
    # Loading a bundle costs milliseconds; the Teams connector makes a session per reply.
    return ssl.create_default_context(cafile=bundle)


def client_session(**options: Any) -> aiohttp.ClientSession:
    """An aiohttp session that goes through the proxy of the environment and trusts its CA bundle."""
    import aiohttp

    return aiohttp.ClientSession(trust_env=True, connector=aiohttp.TCPConnector(ssl=_ssl_context(ca_bundle())),
                                 **options)
