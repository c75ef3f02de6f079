"""The CMS API's XML: parsed safely, failures typed, values read (``bot.services.cms``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree

from bot.services.cms_errors import CmsFailure, CmsProtocolError, DuplicateCallId, DuplicateUri, SpaceNotFound

OBJECT_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
_FAILURE_TYPES: dict[str, type[CmsFailure]] = {
    "duplicateCoSpaceUri": DuplicateUri,
    "duplicateCoSpaceId": DuplicateCallId,
    "coSpaceDoesNotExist": SpaceNotFound,
}
# The API guide spells "unrecognized", Mividas matches "unrecognised": accept both as one reason.
_REASON_ALIASES = {"unrecognisedObject": "unrecognizedObject"}


def way_of(leg: ET.Element) -> str:
    """``phone``, ``browser`` or ``video``: how a call leg joined.

    A telephone comes through the gateway with a number as its address; Cisco Meeting's web app
    through the web bridge, which CMS marks by the leg's ``type`` (``acano``, the CMS's own client
    protocol, in 2.x–3.x) or, in some versions, only in the address: both are read.
    """
    remote = (xml_text(leg, "remoteParty") or "").lower()
    address = remote.removeprefix("sip:").removeprefix("tel:").split("@", 1)[0]
    if address.lstrip("+").isdigit():
        return "phone"
    if (xml_text(leg, "type") or "").lower() in ("acano", "webrtc") or "webrtc" in remote or "webbridge" in remote:
        return "browser"
    return "video"


def parse_xml(body: bytes, method: str, path: str) -> ET.Element:
    try:
        # forbid_dtd refuses every DOCTYPE: entity expansion and external entities never start.
        root: ET.Element = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise CmsProtocolError(
            f"CMS answered {method} {path} with unsafe XML ({type(exc).__name__}); refused."
        ) from None
    except ET.ParseError:
        raise CmsProtocolError(f"CMS answered {method} {path} with malformed XML.") from None
    return root


def failure_of(element: ET.Element, status: int) -> CmsFailure:
    child = next(iter(element), None)
    if child is None:
        return CmsFailure("unknown", status=status)
    reason = _REASON_ALIASES.get(child.tag, child.tag)
    return _FAILURE_TYPES.get(reason, CmsFailure)(reason, child.get("parameter"), status=status)


def object_id(value: str) -> str:
    if not OBJECT_ID.fullmatch(value):
        raise ValueError("not a CMS object id")
    return value


def xml_text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return child.text if child is not None and child.text else None


def xml_total(root: ET.Element) -> int:
    try:
        return int(root.get("total", ""))
    except ValueError:
        raise CmsProtocolError(f"CMS answered a <{root.tag}> list without a valid total.") from None
