"""The CMS simulator on the wire: status codes, headers and XML as the CMS API reference has them."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.simulators.cms import CmsSimulator, run_simulator
from tests.waiting import eventually


def basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


AUTH = basic(b"api:simulator")
API = "/api/v1"
Client = TestClient[Any, Any]


def fd(reason: str) -> str:
    return f'<?xml version="1.0"?><failureDetails><{reason} /></failureDetails>'


@pytest.fixture
def simulator() -> CmsSimulator:
    return CmsSimulator(domain="video.example.se")


@pytest.fixture
async def http(aiohttp_client: Callable[..., Awaitable[Client]], simulator: CmsSimulator) -> Client:
    return await aiohttp_client(simulator.app, headers=AUTH)


async def create(http: Client, **form: str) -> str:
    response = await http.post(f"{API}/coSpaces", data=form)
    assert response.status == 200, await response.text()
    assert await response.read() == b""
    return response.headers["Location"].rsplit("/", 1)[-1]


async def xml(http: Client, path: str, **params: str) -> ET.Element:
    response = await http.get(f"{API}/{path}", params=params)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/xml"
    body = await response.text()
    assert body.startswith('<?xml version="1.0"?><')
    return ET.fromstring(body)


async def refusal(response: aiohttp.ClientResponse) -> tuple[int, str]:
    return response.status, await response.text()


@pytest.mark.parametrize("credentials", [None, b"api:wrong", b"other:simulator", b"nonsense"])
async def test_bad_login_is_401(
    aiohttp_client: Callable[..., Awaitable[Client]], simulator: CmsSimulator, credentials: bytes | None
) -> None:
    http = await aiohttp_client(simulator.app)
    response = await http.get(f"{API}/coSpaces", headers={} if credentials is None else basic(credentials))
    assert response.status == 401
    assert simulator.spaces == {}


async def test_create_answers_a_relative_location_and_stores_a_secret(
    http: Client, simulator: CmsSimulator
) -> None:
    form = {"name": "HC Torsås 8", "uri": "hc.torsas.8", "callId": "059893656", "cdrTag": "x=1"}
    response = await http.post(f"{API}/coSpaces", data=form)
    assert (response.status, await response.read()) == (200, b"")
    location = response.headers["Location"]
    assert re.fullmatch(r"/api/v1/coSpaces/[0-9a-f-]{36}", location)
    space_id = location.rsplit("/", 1)[-1]
    assert uuid.UUID(space_id).version == 4
    space = simulator.spaces[space_id]
    assert (space["name"], space["callId"], space["cdrTag"]) == ("HC Torsås 8", "059893656", "x=1")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", space["secret"])
    assert simulator.snapshot() == [
        {"id": space_id, "name": "HC Torsås 8", "uri": "hc.torsas.8", "callId": "059893656", "cdrTag": "x=1"}
    ]


async def test_without_a_call_id_there_is_no_secret_unless_one_is_required(
    http: Client, simulator: CmsSimulator
) -> None:
    plain = await create(http, name="plain", uri="plain")
    assert "secret" not in simulator.spaces[plain] and "callId" not in simulator.spaces[plain]
    generated = simulator.spaces[await create(http, name="generated", requireCallId="true")]
    assert re.fullmatch(r"[1-9][0-9]{8}", generated["callId"]) and len(generated["secret"]) == 22


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"uri": "room.1"}, "duplicateCoSpaceUri"),
        ({"uri": "ROOM.1"}, "duplicateCoSpaceUri"),
        ({"uri": "room.2", "secondaryUri": "alias.1"}, "duplicateCoSpaceUri"),
        ({"uri": "alias.1"}, "duplicateCoSpaceUri"),
        ({"uri": "room.2", "callId": "100"}, "duplicateCoSpaceId"),
        ({"tenant": "5a1b0c52-0000-4000-8000-000000000000"}, "tenantDoesNotExist"),
        ({"callLegProfile": "5a1b0c52-0000-4000-8000-000000000000"}, "callLegProfileDoesNotExist"),
    ],
)
async def test_create_refusals(
    http: Client, simulator: CmsSimulator, form: dict[str, str], reason: str
) -> None:
    await create(http, name="one", uri="room.1", secondaryUri="alias.1", callId="100")
    response = await http.post(f"{API}/coSpaces", data={"name": "two", **form})
    assert await refusal(response) == (400, fd(reason))
    assert len(simulator.spaces) == 1


@pytest.mark.parametrize(
    ("form", "parameter", "error"),
    [
        ({"uri": "hc torsås"}, "uri", "invalidValue"),
        ({"secondaryUri": "a@b"}, "secondaryUri", "invalidValue"),
        ({"callId": "12a"}, "callId", "invalidValue"),
        ({"nonMemberAccess": "yes"}, "nonMemberAccess", "invalidValue"),
        ({"cdrTag": "x" * 101}, "cdrTag", "invalidValue"),
        ({"callID": "1"}, "callID", "unrecognised"),
    ],
)
async def test_parameter_errors(http: Client, form: dict[str, str], parameter: str, error: str) -> None:
    status, body = await refusal(await http.post(f"{API}/coSpaces", data=form))
    assert status == 400
    assert body == (
        f'<?xml version="1.0"?><failureDetails><parameterError parameter="{parameter}" error="{error}" />'
        "</failureDetails>"
    )


async def test_get_one_space_shows_set_fields_and_the_secret(http: Client, simulator: CmsSimulator) -> None:
    space_id = await create(http, name="Åre & Öland", uri="are.1", callId="059893656", passcode="1234")
    root = await xml(http, f"coSpaces/{space_id}")
    assert root.tag == "coSpace" and root.get("id") == space_id
    assert {child.tag: child.text for child in root} == {
        "name": "Åre & Öland", "autoGenerated": "false", "uri": "are.1", "callId": "059893656",
        "secret": simulator.spaces[space_id]["secret"], "passcode": "1234",
    }


async def test_list_filters_on_name_uri_and_call_id_and_counts_all_matches(http: Client) -> None:
    for number in range(12):
        await create(http, name=f"HC Torsås {number}", uri=f"hc.torsas.{number}", callId=f"4711{number:02d}")
    await create(http, name="Other", uri="other", callId="999")

    everything = await xml(http, "coSpaces")
    assert everything.get("total") == "13" and len(everything) == 10  # default page cap
    assert [child.tag for child in everything[0]] == ["name", "autoGenerated", "uri", "callId"]
    assert (await xml(http, "coSpaces", filter="torsås")).get("total") == "12"
    assert (await xml(http, "coSpaces", filter="hc.torsas.1")).get("total") == "3"  # 1, 10, 11
    assert [s.findtext("name") for s in await xml(http, "coSpaces", filter="471105")] == ["HC Torsås 5"]
    page = await xml(http, "coSpaces", filter="torsås", offset="10", limit="5")
    assert page.get("total") == "12"
    assert [s.findtext("name") for s in page] == ["HC Torsås 10", "HC Torsås 11"]
    assert len(await xml(http, "coSpaces", limit="3")) == 3
    tenant = "5a1b0c52-0000-4000-8000-000000000000"
    assert (await xml(http, "coSpaces", tenantFilter=tenant)).get("total") == "0"


async def test_page_cap_is_configurable(aiohttp_client: Callable[..., Awaitable[Client]]) -> None:
    simulator = CmsSimulator(page_cap=8)
    http = await aiohttp_client(simulator.app, headers=AUTH)
    for number in range(9):
        await create(http, name=f"room {number}", uri=f"room.{number}")
    page = await xml(http, "coSpaces", limit="10")
    assert (page.get("total"), len(page)) == ("9", 8)


async def test_modify_keeps_missing_unsets_empty_and_regenerates_secret(
    http: Client, simulator: CmsSimulator
) -> None:
    space_id = await create(http, name="room", uri="room.1", callId="1", cdrTag="tag")
    await create(http, name="other", uri="room.2", callId="2")
    old_secret = simulator.spaces[space_id]["secret"]

    response = await http.put(f"{API}/coSpaces/{space_id}", data={"name": "renamed", "cdrTag": ""})
    assert (response.status, await response.read()) == (200, b"")
    assert simulator.spaces[space_id] == {
        "name": "renamed", "uri": "room.1", "callId": "1", "secret": old_secret
    }
    await http.put(f"{API}/coSpaces/{space_id}", data={"regenerateSecret": "true"})
    assert simulator.spaces[space_id]["secret"] != old_secret
    assert await refusal(await http.put(f"{API}/coSpaces/{space_id}", data={"uri": "room.2"})) == (
        400, fd("duplicateCoSpaceUri")
    )
    # Its own uri and callId again: no clash with itself.
    response = await http.put(f"{API}/coSpaces/{space_id}", data={"uri": "room.1", "callId": "1"})
    assert response.status == 200


async def test_unknown_space_is_404_for_every_method(http: Client) -> None:
    path = f"{API}/coSpaces/5a1b0c52-0000-4000-8000-000000000000"
    for response in (await http.get(path), await http.put(path, data={"name": "x"}), await http.delete(path),
                     await http.get(f"{path}/meetingEntryDetail")):
        assert await refusal(response) == (404, fd("coSpaceDoesNotExist"))


async def test_delete_then_404(http: Client, simulator: CmsSimulator) -> None:
    space_id = await create(http, name="room", uri="room.1")
    response = await http.delete(f"{API}/coSpaces/{space_id}")
    assert (response.status, await response.read()) == (200, b"")
    assert simulator.spaces == {}
    assert (await http.delete(f"{API}/coSpaces/{space_id}")).status == 404


async def test_meeting_entry_detail_has_the_full_uri(http: Client) -> None:
    space_id = await create(http, name="room", uri="hc.torsas.8", callId="059893656")
    root = await xml(http, f"coSpaces/{space_id}/meetingEntryDetail")
    assert [(child.tag, child.text) for child in root] == [
        ("coSpace", space_id), ("uri", "hc.torsas.8@video.example.se"), ("callId", "059893656")
    ]


async def test_calls_list_get_and_end(http: Client, simulator: CmsSimulator) -> None:
    space_id = await create(http, name="room", uri="room.1", callId="1")
    other_id = await create(http, name="other", uri="room.2")
    call_id = simulator.add_call(space_id, participants=3)
    simulator.add_call(other_id)

    calls = await xml(http, "calls", coSpaceFilter=space_id)
    assert calls.get("total") == "1" and calls[0].get("id") == call_id
    assert [(child.tag, child.text) for child in calls[0]][:2] == [("name", "room"), ("coSpace", space_id)]
    assert (await xml(http, "calls")).get("total") == "2"
    call = await xml(http, f"calls/{call_id}")
    assert (call.findtext("callType"), call.findtext("numParticipantsLocal")) == ("coSpace", "3")

    response = await http.delete(f"{API}/calls/{call_id}")
    assert (response.status, await response.read()) == (200, b"")
    assert (await xml(http, "calls", coSpaceFilter=space_id)).get("total") == "0"
    assert await refusal(await http.delete(f"{API}/calls/{call_id}")) == (404, fd("callDoesNotExist"))
    assert await refusal(await http.get(f"{API}/calls/{call_id}")) == (404, fd("callDoesNotExist"))


@pytest.mark.parametrize("ends_calls", [False, True])
async def test_deleting_a_space_in_use_is_configurable(
    http: Client, simulator: CmsSimulator, ends_calls: bool
) -> None:
    simulator.delete_ends_calls = ends_calls
    space_id = await create(http, name="room", uri="room.1")
    simulator.add_call(space_id)
    await http.delete(f"{API}/coSpaces/{space_id}")
    assert len(simulator.calls) == (0 if ends_calls else 1)


@pytest.mark.parametrize("path", ["coSpaceTemplates", "coSpaces/x/y/z", "coSpaces/x/nonsense"])
async def test_unknown_node_is_unrecognized_object(http: Client, path: str) -> None:
    assert await refusal(await http.get(f"{API}/{path}")) == (400, fd("unrecognizedObject"))


async def test_fault_injection(http: Client, simulator: CmsSimulator) -> None:
    simulator.fail_next(503, count=2)
    simulator.raw_next(b"<broken", status=200)
    assert [(await http.get(f"{API}/coSpaces")).status for _ in range(2)] == [503, 503]
    assert await (await http.get(f"{API}/coSpaces")).read() == b"<broken"
    assert (await http.get(f"{API}/coSpaces")).status == 200
    assert simulator.requests == [f"GET {API}/coSpaces"] * 4


async def test_a_fault_aimed_at_one_step_leaves_the_others_alone(http: Client, simulator: CmsSimulator) -> None:
    simulator.fail_next(401, on="POST coSpaces")
    simulator.raw_next(b"<coSpace", on="GET coSpaces/.+")
    assert (await http.get(f"{API}/coSpaces")).status == 200
    assert (await http.post(f"{API}/coSpaces", data={"name": "A", "uri": "a"})).status == 401
    assert simulator.spaces == {}  # a canned answer carries nothing out
    space_id = await create(http, name="A", uri="a")
    assert await (await http.get(f"{API}/coSpaces/{space_id}")).read() == b"<coSpace"
    assert (await http.get(f"{API}/coSpaces/{space_id}")).status == 200


async def test_a_late_answer_is_carried_out_before_it_is_answered(http: Client, simulator: CmsSimulator) -> None:
    simulator.answer_late(30, on="POST coSpaces")
    with pytest.raises(asyncio.TimeoutError):
        async with asyncio.timeout(0.3):
            await http.post(f"{API}/coSpaces", data={"name": "A", "uri": "a"})
    [space] = simulator.snapshot()  # the client gave up, the room exists
    assert space["uri"] == "a"
    assert await create(http, name="B", uri="b")  # only the next one was late


async def test_a_hang_holds_requests_until_released(http: Client, simulator: CmsSimulator) -> None:
    simulator.hang(on="POST coSpaces")
    post = asyncio.create_task(http.post(f"{API}/coSpaces", data={"name": "A", "uri": "a"}))
    await eventually(lambda: simulator.hanging)
    assert (await http.get(f"{API}/coSpaces")).status == 200  # other steps answer
    assert not post.done() and simulator.spaces == {}
    simulator.release()
    assert (await post).status == 200
    assert len(simulator.spaces) == 1 and simulator.hanging == 0


async def test_opt_in_quirk_answers_failures_with_200(http: Client, simulator: CmsSimulator) -> None:
    path = f"{API}/coSpaces/5a1b0c52-0000-4000-8000-000000000000"
    assert (await http.get(path)).status == 404
    simulator.quirk_200_failure = True
    assert await refusal(await http.get(path)) == (200, fd("coSpaceDoesNotExist"))


async def test_run_simulator_serves_until_cancelled() -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(run_simulator("127.0.0.1", 0, ready=ready.set_result, password="pw"))
    url = await ready
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1/", url)
    async with aiohttp.ClientSession() as session:
        response = await session.get(url + "coSpaces", headers=basic(b"api:pw"))
        assert response.status == 200
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
