"""Teams settings in the product's own names, mapped onto what the Microsoft 365 Agents SDK needs.

The SDK reads ``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__*`` variables; the bot builds the same
configuration from ``DISTANSMOTE_TEAMS_*`` instead, and refuses what would be unsafe: Teams
without a tenant allowlist, a production bot without its app id, tenant or credential, and
anonymous requests anywhere but on a loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from microsoft_agents.hosting.core import AgentAuthConfiguration, AuthTypes

from bot.config import ConfigError, Settings
from bot.core.inbound import Allowlist
from bot.platforms.teams import TeamsSettings

log = logging.getLogger(__name__)

CONNECTION = "SERVICE_CONNECTION"  # the SDK's name for the bot's own connection
AUTH_TYPES = {
    "client_secret": AuthTypes.client_secret,
    "user_managed_identity": AuthTypes.user_managed_identity,
    "system_managed_identity": AuthTypes.system_managed_identity,
    "certificate": AuthTypes.certificate,
    "federated_credentials": AuthTypes.federated_credentials,
    "workload_identity": AuthTypes.workload_identity,
}
# The setting each credential other than a client secret or a managed identity needs, and what it is.
CREDENTIAL_SETTINGS = {
    AuthTypes.certificate: ("certificate_file", "the app's certificate, a PFX file without a passphrase"),
    AuthTypes.federated_credentials: ("federated_client_id",
                                      "the client id of the managed identity federated with the app"),
    AuthTypes.workload_identity: ("federated_token_file", "the workload identity's token file"),
}


@dataclass(frozen=True)
class TeamsConfig:
    auth: AgentAuthConfiguration
    allowlist: Allowlist  # of tenants; Teams vouches for no e-mail domain
    app_id: str | None

    @property
    def anonymous(self) -> bool:
        return self.auth.ANONYMOUS_ALLOWED


def _guid(value: str, variable: str, what: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ConfigError(f"{variable}: {what}, a GUID such as 1f2e3d4c-0000-4000-8000-123456789abc") from None


def _tenant_id(value: str) -> str:
    """A tenant id as activities carry it. Not checked as a GUID: Agents Playground's is not one;
    a domain name (a likely mix-up) is refused."""
    tenant = value.strip().casefold()
    if not re.fullmatch(r"[0-9a-f]+(-[0-9a-f]+)*", tenant):
        raise ConfigError("DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS: each entry is a Microsoft Entra tenant id "
                          "(a GUID such as 1f2e3d4c-0000-4000-8000-123456789abc), not a domain name")
    return tenant


def teams_config(settings: Settings) -> TeamsConfig:
    """The SDK's configuration from the bot's settings; ``ConfigError`` names what is missing."""
    tenants = frozenset(_tenant_id(t) for t in settings.allowed_teams_tenant_ids)
    if not tenants:
        raise ConfigError("DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS: set the region's tenant id when Teams is "
                          "configured, otherwise people of any Microsoft 365 organisation could use the bot")
    teams = TeamsSettings.of(settings)
    anonymous = teams.allow_anonymous
    app_id = teams.app_id.strip() if teams.app_id else None
    if app_id:
        app_id = _guid(app_id, "DISTANSMOTE_TEAMS_APP_ID", "the Azure Bot's Microsoft App ID")
    elif not anonymous:
        raise ConfigError("DISTANSMOTE_TEAMS_APP_ID: required for Teams (the Azure Bot's Microsoft App ID)")
    tenant_id = teams.tenant_id.strip() if teams.tenant_id else None
    password = teams.app_password.get_secret_value().strip() if teams.app_password else ""
    auth_type = AUTH_TYPES[teams.auth_type]
    if app_id and not anonymous:
        if not tenant_id:
            raise ConfigError("DISTANSMOTE_TEAMS_TENANT_ID: required for Teams (the tenant of the single-tenant "
                              "bot registration or of its managed identity)")
        if auth_type == AuthTypes.client_secret and not password:
            raise ConfigError("DISTANSMOTE_TEAMS_APP_PASSWORD: required with DISTANSMOTE_TEAMS_AUTH_TYPE=client_secret "
                              "(or use a managed identity: DISTANSMOTE_TEAMS_AUTH_TYPE=user_managed_identity)")
        _check_credential(teams, auth_type)
    if tenant_id:
        tenant_id = _guid(tenant_id, "DISTANSMOTE_TEAMS_TENANT_ID", "the bot's Microsoft Entra tenant id")
    auth = AgentAuthConfiguration(
        auth_type=auth_type, client_id=app_id, tenant_id=tenant_id, client_secret=password or None,
        cert_pfx_file=teams.certificate_file, federated_token_file=teams.federated_token_file,
        federated_client_id=teams.federated_client_id,
        connection_name=CONNECTION, anonymous_allowed=anonymous,
        # The SDK checks the token's issuer only when asked to (contract: Bot Framework and the tenant).
        validate_issuer=True,
    )
    return TeamsConfig(auth=auth, allowlist=Allowlist.of(tenants, ()), app_id=app_id)


def _check_credential(teams: TeamsSettings, auth_type: AuthTypes) -> None:
    """The certificate, federated client id or token file that ``auth_type`` needs is set (and a file
    exists), so that a mistake stops start-up instead of the first reply."""
    if auth_type not in CREDENTIAL_SETTINGS:
        return
    name, what = CREDENTIAL_SETTINGS[auth_type]
    variable = f"{teams.model_config.get('env_prefix', '')}{name.upper()}"
    value = (getattr(teams, name) or "").strip()
    if not value:
        raise ConfigError(f"{variable}: required with DISTANSMOTE_TEAMS_AUTH_TYPE={teams.auth_type} ({what})")
    if name.endswith("_file") and not Path(value).is_file():
        raise ConfigError(f"{variable}: {value} is not a file ({what})")
    if auth_type == AuthTypes.federated_credentials:
        _guid(value, variable, what)


def check_listen_address(settings: Settings, host: str) -> None:
    """``serve`` accepts anonymous Teams requests only on a loopback address, and says so."""
    if not TeamsSettings.of(settings).allow_anonymous:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS: for local testing only; serve accepts it only on "
                          f"a loopback address (--host 127.0.0.1 or ::1), not on {host}")
    log.warning("DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS is on: Teams requests without a token are accepted "
                "(local testing only, never in production)")
