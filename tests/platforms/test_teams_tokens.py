"""Teams tokens: a correctly signed token is refused without an expiry or with a lifetime longer than
Microsoft's own. The SDK's validator runs whole (signature, audience, issuer); only where it finds the
signing key is a test key put in, as Microsoft's published keys cannot be fetched offline."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from microsoft_agents.hosting.core import AgentAuthConfiguration, JwtTokenValidator

from bot.config import Settings
from bot.platforms.teams.auth import MAX_TOKEN_LIFETIME, authenticate
from bot.platforms.teams.config import teams_config

APP_ID = "1f2e3d4c-0000-4000-8000-123456789abc"
TENANT = "11111111-2222-3333-4444-555555555555"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _TestKey:
    """Stands where the SDK looks up the Bot Framework's signing key by the token's ``kid``."""

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> jwt.PyJWK:
        assert header["kid"] == "test-key"
        return jwt.PyJWK.from_dict(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True) | {
            "kid": "test-key", "alg": "RS256", "use": "sig"})


class KeyedValidator(JwtTokenValidator):
    _jwk_client_manager = _TestKey()  # type: ignore[assignment]


def _config() -> AgentAuthConfiguration:
    settings = Settings(_env_file=None, teams_app_id=APP_ID, teams_app_password="secret",  # type: ignore[call-arg]
                        teams_tenant_id=TENANT, allowed_teams_tenant_ids=(TENANT,))
    return teams_config(settings).auth


def _token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": "https://api.botframework.com", "aud": APP_ID, "nbf": now - 10, "iat": now - 10,
            "exp": now + 3600, "serviceurl": "http://127.0.0.1/"} | claims
    return jwt.encode({k: v for k, v in body.items() if v is not None}, KEY, algorithm="RS256",
                      headers={"kid": "test-key"})


async def _check(token: str) -> bool:
    return await authenticate(f"Bearer {token}", _config(), validator=KeyedValidator) is not None


async def test_a_correctly_signed_token_of_an_hour_is_taken() -> None:
    assert await _check(_token())


@pytest.mark.parametrize("claims", [
    {"exp": None},  # no expiry at all
    {"exp": None, "iat": None, "nbf": None},
    {"exp": int(time.time()) + MAX_TOKEN_LIFETIME + 3600},  # a lifetime no Microsoft token has
    {"iat": int(time.time()) - 3 * 24 * 3600},  # issued days ago, still "valid" for an hour
], ids=["no exp", "no times", "lives two days", "issued days ago"])
async def test_a_correctly_signed_token_without_a_short_expiry_is_refused(claims: dict[str, Any], caplog) -> None:
    assert not await _check(_token(**claims))
    # Refused for its lifetime, after the SDK found nothing else wrong with it.
    assert "token without an expiry, or one too far off" in caplog.text


async def test_a_token_signed_by_another_key_is_still_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 600},
                        other, algorithm="RS256", headers={"kid": "test-key"})
    assert not await _check(forged)
