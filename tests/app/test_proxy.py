"""Every outbound client goes through the proxy of the standard variables (HTTP_PROXY / HTTPS_PROXY,
NO_PROXY): the CMS client, the Webex SDK, the Teams connector and the Teams token (MSAL). A forward
proxy on 127.0.0.1 records what it relays; the targets are the fakes, over plain HTTP, so the proxy
sees each request whole (MSAL's HTTPS to Microsoft Entra shows as the tunnel it asks for).
And they trust a CA bundle of the region's own (SSL_CERT_FILE), over TLS to the fakes."""

from __future__ import annotations

import ipaddress
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.cli import main
from bot.outbound import CA_VARIABLES, share_ca_bundle
from bot.platforms.webex.transport import WebexClient
from bot.services.cms import CmsClient, CmsError
from bot.simulators.cms import CmsSimulator
from tests.fakes.teams import FakeConnector
from tests.fakes.webex import WebexFake
from tests.platforms.teams_harness import TENANT, anonymous_settings, running_teams

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")


@dataclass
class ForwardProxy:
    """Relays absolute-form requests (``GET http://host/path``) and records ``(method, url)``."""

    relayed: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    async def relay(self, request: web.Request) -> web.Response:
        target = f"http://{request.headers['Host']}{request.path_qs}"
        self.relayed.append((request.method, target))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "proxy-connection")}
        async with aiohttp.ClientSession() as session, session.request(
                request.method, target, headers=headers, data=await request.read(), allow_redirects=False) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")}
            return web.Response(status=answer.status, body=body, headers=kept)

    def saw(self, method: str, path: str) -> bool:
        return any(m == method and path in url for m, url in self.relayed)


@pytest.fixture
async def proxy(aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch) -> ForwardProxy:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    forward = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward.relay)
    server = await aiohttp_server(app)
    forward.url = f"http://127.0.0.1:{server.port}"
    monkeypatch.setenv("HTTP_PROXY", forward.url)
    monkeypatch.setenv("HTTPS_PROXY", forward.url)
    return forward


async def test_the_cms_client_goes_through_the_proxy(proxy, cms):
    client = CmsClient(cms.url, "api", "simulator", max_attempts=1)
    try:
        await client.check()
    finally:
        await client.close()
    assert proxy.saw("GET", cms.url.removeprefix("http://"))


async def test_no_proxy_keeps_the_cms_client_off_the_proxy(proxy, cms, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = CmsClient(cms.url, "api", "simulator", max_attempts=1)
    try:
        await client.check()
    finally:
        await client.close()
    assert proxy.relayed == []


async def test_the_webex_sdk_goes_through_the_proxy(proxy, aiohttp_server):
    webex = WebexFake(token="bot-token-for-tests")
    server = await aiohttp_server(webex.app)
    client = WebexClient("bot-token-for-tests", str(server.make_url("/v1/")), workers=1, attempts=1)
    try:
        me = await client.me()
    finally:
        await client.close()
    assert me["id"] == webex.bot["id"]
    assert proxy.saw("GET", "/v1/people/me")


async def test_the_teams_connector_goes_through_the_proxy(proxy, cms, tmp_path, clock, aiohttp_server,
                                                         aiohttp_client) -> None:
    fake = await FakeConnector.served(aiohttp_server)
    async with running_teams(anonymous_settings(cms, tmp_path), clock, fake, aiohttp_client) as teams:
        nina = fake.user("Nina Sjuksköterska", TENANT)
        chat = teams.fake.personal_chat(nina)
        await teams.say(nina, chat, "/distansmöte hjälp")
        assert teams.fake.in_conversation(chat)  # the answer arrived ...
        assert proxy.saw("POST", f"/v3/conversations/{chat.id}/activities")  # ... through the proxy


# -- a CA bundle of the region's own -----------------------------------------------------------


def _region_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA of its own (the region's, or its TLS-inspecting proxy's) and a server certificate for
    127.0.0.1 that it signed: the bundle file, and the server's SSL context."""
    now = datetime.now(UTC)

    def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                    signer: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                                                         subject)]))
                   .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Region test CA")])
    ca = certificate("Region test CA", ca_key, ca_name, ca_key, ca=True)
    server = certificate("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    bundle, chain, key = tmp_path / "region-ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    return bundle, context


@pytest.fixture
def ca_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No CA variable of the machine's; whatever the test (or share_ca_bundle) sets is undone after."""
    for name in CA_VARIABLES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


async def test_the_cms_client_trusts_the_bundle_of_ssl_cert_file(tmp_path, aiohttp_server, ca_environment):
    bundle, server_context = _region_ca(tmp_path)
    server = await aiohttp_server(CmsSimulator(username="api", password="simulator").app, ssl=server_context)
    url = str(server.make_url("/api/v1/"))
    assert url.startswith("https://")

    async def check() -> None:
        client = CmsClient(url, "api", "simulator", max_attempts=1)
        try:
            await client.check()
        finally:
            await client.close()

    with pytest.raises(CmsError):  # the system's CAs do not know the region's
        await check()
    ca_environment.setenv("SSL_CERT_FILE", str(bundle))
    await check()


async def test_the_webex_sdk_trusts_the_same_bundle(tmp_path, aiohttp_server, ca_environment):
    bundle, server_context = _region_ca(tmp_path)
    webex = WebexFake(token="bot-token-for-tests")
    server = await aiohttp_server(webex.app, ssl=server_context)
    ca_environment.setenv("SSL_CERT_FILE", str(bundle))
    share_ca_bundle()  # what the CLI does first: requests reads REQUESTS_CA_BUNDLE, not SSL_CERT_FILE
    client = WebexClient("bot-token-for-tests", str(server.make_url("/v1/")), workers=1, attempts=1)
    try:
        assert (await client.me())["id"] == webex.bot["id"]
    finally:
        await client.close()


# -- the Teams token (MSAL, over HTTPS: a CONNECT to the proxy) -----------------------------------


class _ConnectRecorder(socketserver.BaseRequestHandler):
    """A proxy that records the request line of each tunnel asked for and refuses it."""

    seen: ClassVar[list[str]] = []

    def handle(self) -> None:
        head = self.request.recv(4096).decode("latin-1")
        self.seen.append(head.split("\r\n", 1)[0])
        self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_the_teams_token_request_goes_through_the_proxy(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for name in [*PROXY_VARIABLES, *(n.lower() for n in PROXY_VARIABLES)]:
        monkeypatch.delenv(name, raising=False)
    tenant = "11111111-2222-3333-4444-555555555555"
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ConnectRecorder) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        for name, value in {"TEAMS_APP_ID": "1f2e3d4c-0000-4000-8000-123456789abc", "TEAMS_TENANT_ID": tenant,
                            "TEAMS_APP_PASSWORD": "teams-password-for-tests", "ALLOWED_TEAMS_TENANT_IDS": tenant,
                            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}.items():
            monkeypatch.setenv(f"DISTANSMOTE_{name}", value)
        _ConnectRecorder.seen.clear()
        assert main(["check"]) == 1
        server.shutdown()
    assert "FAIL Teams token: none from Microsoft Entra" in capsys.readouterr().out
    assert {line.rsplit(" ", 1)[0] for line in _ConnectRecorder.seen} == {"CONNECT login.microsoftonline.com:443"}
