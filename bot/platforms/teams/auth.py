"""The bearer token of a Teams request, checked on ``POST /api/messages`` only, with the SDK's ``JwtTokenValidator``.

Not the SDK's middleware: it guards every route of the app, and its per-route decorator reads a string app key
(aiohttp's ``NotAppKeyWarning``) and lets a validator error other than ``PyJWTError`` or ``ValueError`` through as a
500 (version 1.9 raises ``KeyError`` for a JWT without ``kid``). PyJWT checks ``exp`` only when it is there: a token
without one, or living longer than a day, is refused here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity, JwtTokenValidator

log = logging.getLogger(__name__)

# Entra access tokens live 60-90 minutes, a day at most with a lifetime policy; Bot Framework's an hour.
MAX_TOKEN_LIFETIME = 24 * 3600


async def authenticate(header: str | None, config: AgentAuthConfiguration, *,
                       validator: Callable[[AgentAuthConfiguration], JwtTokenValidator] = JwtTokenValidator,
                       ) -> ClaimsIdentity | None:
    """Who sent the request, or ``None`` to refuse it (401).

    Without an ``Authorization`` header the request is anonymous, which only local testing
    allows; a header that is there must hold a valid token, in every mode.
    """
    checks = validator(config)
    if header is None:
        if config.ANONYMOUS_ALLOWED:
            return checks.get_anonymous_claims()
        log.warning("Teams request refused: no token")
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        log.warning("Teams request refused: malformed Authorization header")
        return None
    try:
        identity = await checks.validate_token(token)
    except Exception as exc:  # noqa: BLE001 - PyJWTError, ValueError, KeyError (no kid), key fetch failures
        log.warning("Teams request refused: token not valid (%s)", type(exc).__name__)
        return None
    if not _lives_briefly(identity.claims):
        log.warning("Teams request refused: token without an expiry, or one too far off")
        return None
    return identity


def _lives_briefly(claims: dict[str, object]) -> bool:
    expires, issued = claims.get("exp"), claims.get("iat", claims.get("nbf"))
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return False
    since = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
    return expires - min(since, time.time()) <= MAX_TOKEN_LIFETIME
