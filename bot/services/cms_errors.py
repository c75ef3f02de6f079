"""How a request to the CMS failed, from the bot's side (``bot.services.cms``, ``bot.services.cms_guard``)."""

from __future__ import annotations


class CmsError(Exception):
    """Any failure talking to CMS; ``str()`` is a sentence fit for an operator."""


class CmsAuthError(CmsError):
    """CMS answered 401: the API username or password is wrong."""


class CmsUnavailable(CmsError):
    """CMS is busy (503), unreachable or too slow, also after retrying."""


class CmsUnanswered(CmsUnavailable):
    """A request that changes something went out and no answer came: it may or may not have happened."""


class CmsNotAsked(CmsUnavailable):
    """Refused here, without asking CMS: it has been failing (the circuit is open), or as many
    requests as allowed are already waiting for it (the bulkhead is full). Nothing was carried out."""


class CmsCrowded(CmsNotAsked):
    """Refused by the bulkhead alone: as many requests as allowed are at CMS and waiting for it."""


class CmsProtocolError(CmsError):
    """The answer is not what a CMS API gives: malformed or unsafe XML, a redirect, an odd status."""


class CmsErrorStatus(CmsProtocolError):
    """An error status (4xx, 5xx) without ``<failureDetails>``: refused, without saying why."""


class CmsFailure(CmsError):
    """CMS refused the request with ``<failureDetails>``; ``reason`` is the child's tag name."""

    def __init__(self, reason: str, parameter: str | None = None, *, status: int | None = None) -> None:
        self.reason = reason
        self.parameter = parameter
        self.status = status
        detail = f" (parameter {parameter})" if parameter else ""
        super().__init__(f"CMS refused the request: {reason}{detail}.")


class DuplicateUri(CmsFailure):
    """Another coSpace already has this uri or secondaryUri."""


class DuplicateCallId(CmsFailure):
    """Another coSpace already has this callId."""


class SpaceNotFound(CmsFailure):
    """No coSpace has this id (``coSpaceDoesNotExist``)."""
