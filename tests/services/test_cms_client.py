"""The real CMS client against the CMS simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from bot.config import ConfigError, Settings
from bot.services.cms import (
    CmsAuthError,
    CmsClient,
    CmsFailure,
    CmsProtocolError,
    CmsUnavailable,
    DuplicateCallId,
    DuplicateUri,
    SpaceNotFound,
)
from bot.simulators.cms import CmsSimulator

MakeClient = Callable[..., CmsClient]


@pytest.fixture
def simulator() -> CmsSimulator:
    return CmsSimulator()


@pytest.fixture
async def cms_url(aiohttp_server: Callable[..., Awaitable[TestServer]], simulator: CmsSimulator) -> str:
    server = await aiohttp_server(simulator.app)
    return str(server.make_url("/api/v1/"))


@pytest.fixture
async def make_client(cms_url: str) -> AsyncIterator[MakeClient]:
    """Clients with test-sized timeouts; any of them closed at the end."""
    clients: list[CmsClient] = []

    def make(**options: object) -> CmsClient:
        settings: dict[str, object] = {
            "base_url": cms_url, "username": "api", "password": "simulator",
            "timeout": 2.0, "retry_for": 1.0, "backoff": 0.01,
        }
        settings.update(options)
        clients.append(CmsClient(**settings))  # type: ignore[arg-type]
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def client(make_client: MakeClient) -> CmsClient:
    return make_client()


def requests_of(simulator: CmsSimulator, line: str) -> int:
    return simulator.requests.count(line)


async def create(client: CmsClient, number: int, name: str = "HC Torsås") -> str:
    return await client.create_space(
        name=f"{name} {number}", uri=f"hc.torsas.{number}", call_id=f"05989{number:04d}",
        cdr_tag=f"room={number}",
    )


async def test_create_get_delete(client: CmsClient, simulator: CmsSimulator) -> None:
    space_id = await create(client, 8)
    space = await client.get_space(space_id)
    assert (space.id, space.name, space.uri, space.call_id, space.cdr_tag) == (
        space_id, "HC Torsås 8", "hc.torsas.8", "059890008", "room=8"
    )
    assert space.secret is not None and len(space.secret) == 22
    await client.delete_space(space_id)
    assert simulator.spaces == {}
    with pytest.raises(SpaceNotFound) as raised:
        await client.get_space(space_id)
    assert (raised.value.reason, raised.value.status) == ("coSpaceDoesNotExist", 404)


async def test_deleting_twice_succeeds(client: CmsClient) -> None:
    space_id = await create(client, 1)
    await client.delete_space(space_id)
    await client.delete_space(space_id)


async def test_unknown_space_is_a_typed_failure(client: CmsClient) -> None:
    with pytest.raises(CmsFailure, match="coSpaceDoesNotExist"):
        await client.get_space("5a1b0c52-0000-4000-8000-000000000000")


async def test_ids_that_could_change_the_path_are_refused_before_sending(
    client: CmsClient, simulator: CmsSimulator
) -> None:
    with pytest.raises(ValueError):
        await client.get_space("../users")
    assert simulator.requests == []


@pytest.mark.parametrize(
    ("uri", "call_id", "error", "reason"),
    [
        ("hc.torsas.1", "100000002", DuplicateUri, "duplicateCoSpaceUri"),
        ("hc.torsas.2", "100000001", DuplicateCallId, "duplicateCoSpaceId"),
    ],
)
async def test_duplicates_are_typed(
    client: CmsClient, uri: str, call_id: str, error: type[CmsFailure], reason: str
) -> None:
    await client.create_space(name="HC Torsås 1", uri="hc.torsas.1", call_id="100000001", cdr_tag="")
    with pytest.raises(error) as raised:
        await client.create_space(name="HC Torsås 2", uri=uri, call_id=call_id, cdr_tag="")
    assert raised.value.reason == reason


async def test_utf8_name_survives_the_round_trip(client: CmsClient) -> None:
    name = "Vårdcentralen Torsås & <Öland> 7"
    space_id = await client.create_space(name=name, uri="vc.torsas.7", call_id="7", cdr_tag="å=ö")
    assert (await client.get_space(space_id)).name == name
    assert [s.name for s in await client.list_spaces(filter="torsås")] == [name]


@pytest.mark.parametrize(("page_cap", "page_limit", "pages"), [(10, 50, 3), (8, 10, 4)])
async def test_listing_pages_by_items_actually_returned(
    make_client: MakeClient, simulator: CmsSimulator, page_cap: int, page_limit: int, pages: int
) -> None:
    simulator.page_cap = page_cap
    client = make_client(page_limit=page_limit)
    created = [await create(client, number) for number in range(25)]
    simulator.requests.clear()

    spaces = await client.list_spaces()

    assert [space.id for space in spaces] == created
    assert spaces[3].name == "HC Torsås 3" and spaces[3].uri == "hc.torsas.3"
    assert requests_of(simulator, "GET /api/v1/coSpaces") == pages


async def test_an_empty_page_ends_the_listing(client: CmsClient, simulator: CmsSimulator) -> None:
    # total says more are coming but the page is empty (spaces deleted meanwhile): no endless loop.
    simulator.raw_next(b'<?xml version="1.0"?><coSpaces total="5"></coSpaces>')
    assert await client.list_spaces() == []


async def test_active_calls_and_ending_them(client: CmsClient, simulator: CmsSimulator) -> None:
    space_id, other_id = await create(client, 1), await create(client, 2)
    assert await client.active_calls(space_id) == 0
    simulator.add_call(space_id)
    simulator.add_call(space_id, participants=5)
    other_call = simulator.add_call(other_id)
    assert await client.active_calls(space_id) == 2

    assert await client.end_calls(space_id) == 2

    assert await client.active_calls(space_id) == 0
    assert list(simulator.calls) == [other_call]


async def test_wrong_login_is_an_auth_error_without_credentials(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(username="room-bot-7", password="hunter2-Torsås")
    with pytest.raises(CmsAuthError) as raised:
        await client.check()
    for secret in ("room-bot-7", "hunter2"):
        assert secret not in str(raised.value)
        assert secret not in caplog.text


async def test_busy_beyond_the_time_limit_is_unavailable(
    make_client: MakeClient, simulator: CmsSimulator
) -> None:
    simulator.fail_next(503, count=1000)
    client = make_client(retry_for=0.1, max_attempts=1000, backoff=0.01)
    with pytest.raises(CmsUnavailable, match="busy"):
        await client.check()
    # Backoff doubles: at most 0.01 + 0.02 + 0.04 fit in 0.1 s, so never more than 4 attempts.
    assert 2 <= requests_of(simulator, "GET /api/v1/coSpaces") <= 4


async def test_busy_beyond_the_attempt_limit_is_unavailable(
    make_client: MakeClient, simulator: CmsSimulator
) -> None:
    simulator.fail_next(503, count=1000)
    with pytest.raises(CmsUnavailable):
        await make_client(retry_for=60, max_attempts=3).check()
    assert requests_of(simulator, "GET /api/v1/coSpaces") == 3


async def test_a_brief_503_is_retried_also_for_create(client: CmsClient, simulator: CmsSimulator) -> None:
    simulator.fail_next(503, count=2)
    space_id = await create(client, 1)
    assert list(simulator.spaces) == [space_id]
    assert requests_of(simulator, "POST /api/v1/coSpaces") == 3


async def test_a_slow_answer_is_unavailable(make_client: MakeClient, simulator: CmsSimulator) -> None:
    simulator.slowness = 5.0
    with pytest.raises(CmsUnavailable, match="in time"):
        await make_client(timeout=0.1, retry_for=0.15).check()
    assert requests_of(simulator, "GET /api/v1/coSpaces") >= 2


async def test_a_create_that_timed_out_is_not_repeated(
    make_client: MakeClient, simulator: CmsSimulator
) -> None:
    simulator.slowness = 5.0
    with pytest.raises(CmsUnavailable, match="may or may not"):
        await create(make_client(timeout=0.1), 1)
    assert requests_of(simulator, "POST /api/v1/coSpaces") == 1


async def test_connection_refused_is_unavailable(make_client: MakeClient) -> None:
    with socket.socket() as bound_not_listening:
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        client = make_client(base_url=f"http://127.0.0.1:{port}/api/v1/", max_attempts=2)
        with pytest.raises(CmsUnavailable, match=f"Could not connect to CMS at 127.0.0.1:{port}"):
            await create(client, 1)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<coSpaces total="1"><coSpace id="x"><name>&lol3;</name></coSpace></coSpaces>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE coSpaces [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<coSpaces total="1"><coSpace id="x"><name>&xxe;</name></coSpace></coSpaces>"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'<?xml version="1.0"?><coSpaces total="1"><coSpace id="x"><name>', "malformed XML"),
        (BILLION_LAUGHS, "unsafe XML"),
        (EXTERNAL_ENTITY, "unsafe XML"),
        (b"<html><body>Web Admin login</body></html>", "instead of <coSpaces>"),
        (b"", "empty body"),
    ],
    ids=["malformed", "billion-laughs", "external-entity", "html", "empty"],
)
async def test_answers_that_are_not_cms_xml_are_protocol_errors(
    client: CmsClient, simulator: CmsSimulator, body: bytes, message: str
) -> None:
    simulator.raw_next(body)
    with pytest.raises(CmsProtocolError, match=message):
        await client.list_spaces()


async def test_failure_details_with_status_200_are_failures(
    client: CmsClient, simulator: CmsSimulator
) -> None:
    await create(client, 1)
    simulator.quirk_200_failure = True
    with pytest.raises(DuplicateUri) as raised:
        await create(client, 1)
    assert raised.value.status == 200
    await client.delete_space("5a1b0c52-0000-4000-8000-000000000000")  # 200 + coSpaceDoesNotExist = gone


@pytest.mark.parametrize("spelling", ["unrecognizedObject", "unrecognisedObject"])
async def test_both_spellings_of_unrecognized_object(
    client: CmsClient, simulator: CmsSimulator, spelling: str
) -> None:
    simulator.raw_next(f"<failureDetails><{spelling} /></failureDetails>".encode(), status=400)
    with pytest.raises(CmsFailure) as raised:
        await client.check()
    assert raised.value.reason == "unrecognizedObject"


async def test_parameter_errors_name_the_parameter(client: CmsClient) -> None:
    with pytest.raises(CmsFailure) as raised:
        await client.create_space(name="x", uri="hc torsås", call_id="1", cdr_tag="")
    assert (raised.value.reason, raised.value.parameter) == ("parameterError", "uri")


async def test_a_redirect_is_not_followed(client: CmsClient, simulator: CmsSimulator) -> None:
    simulator.raw_next(b"", status=307, headers={"Location": "/api/v1/coSpaces?limit=1"})
    with pytest.raises(CmsProtocolError, match="redirect"):
        await client.check()
    assert len(simulator.requests) == 1


async def test_an_unexpected_status_without_details_is_a_protocol_error(
    client: CmsClient, simulator: CmsSimulator
) -> None:
    simulator.fail_next(500)
    with pytest.raises(CmsProtocolError, match="HTTP 500"):
        await client.check()


def test_from_settings_and_what_is_missing() -> None:
    settings = Settings(
        _env_file=None, cms_url="https://cms.example.se:445/api/v1", cms_username="api",
        cms_password="s3cret", cms_timeout_seconds=3,
    )
    assert str(CmsClient.from_settings(settings).base_url) == "https://cms.example.se:445/api/v1/"
    unconfigured = Settings(_env_file=None, cms_url=None, cms_username="api", cms_password=None)
    with pytest.raises(ConfigError, match="DISTANSMOTE_CMS_URL, DISTANSMOTE_CMS_PASSWORD$"):
        CmsClient.from_settings(unconfigured)


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError) as raised:
        CmsClient("https://api:s3cret@cms.example.se/api/v1/", "api", "s3cret")
    assert "s3cret" not in str(raised.value)


async def test_a_staff_members_cms_user_is_found_by_address_and_owns_the_space(
        client: CmsClient, simulator: CmsSimulator) -> None:
    for n in range(12):  # more than a page
        simulator.add_user(f"user{n}@region.example", f"user{n}@region.example", f"Användare {n}")
    simulator.add_user("nina.sjukskoterska@region.example", "Nina.Sjukskoterska@Region.example", "Nina S")
    assert await client.user_jid("nina.sjukskoterska@region.example") == "nina.sjukskoterska@region.example"
    assert await client.user_jid("NINA.SJUKSKOTERSKA@region.example") == "nina.sjukskoterska@region.example"
    assert await client.user_jid("nobody@region.example") is None
    # A directory whose JIDs are not the e-mail address: found through the address's local part.
    simulator.add_user("kalle@cms.region.example", "kalle@region.example", "Kalle K")
    assert await client.user_jid("kalle@region.example") == "kalle@cms.region.example"

    space_id = await client.create_space(name="HC Torsås 1", uri="hc.torsas.1", call_id="785699524",
                                         cdr_tag="t", owner_jid="nina.sjukskoterska@region.example")
    assert simulator.spaces[space_id]["ownerJid"] == "nina.sjukskoterska@region.example"


async def test_who_has_joined_is_counted_by_way_from_the_call_legs(client: CmsClient, simulator: CmsSimulator) -> None:
    space_id = await client.create_space(name="HC Torsås 1", uri="hc.torsas.1", call_id="785699524", cdr_tag="t")
    assert await client.ways_joined(space_id) == {}
    for way in ("video", "video", "browser", "phone"):
        simulator.join(space_id, way, name="Patient Patientsson")
    assert await client.ways_joined(space_id) == {"video": 2, "browser": 1, "phone": 1}
    leg = simulator.join(space_id, "phone")
    simulator.leave(leg)
    assert sum((await client.ways_joined(space_id)).values()) == 4
