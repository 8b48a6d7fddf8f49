"""Tenants, instances and API clients known to the emulator.

The defaults mirror what the rest of the project expects: tenant ``demo``, instance ``sandbox``,
client ``DEMOCLIENT`` (secret ``demo-secret``, export allowed) and client ``NOEXPORT``
(secret ``noexport-secret``, export forbidden, so tests can reach the export 403 without a file).

A ``--config`` JSON file replaces the defaults::

    {"tenants": [{"name": "demo", "instances": ["sandbox", "live"],
                  "apiClients": [{"name": "DEMOCLIENT", "secret": "demo-secret",
                                  "exportAllowed": true}]}]}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .webhooks import hooks_from_config

DEFAULT_TENANT = "demo"
DEFAULT_INSTANCE = "sandbox"
DEFAULT_CLIENT = "DEMOCLIENT"
DEFAULT_SECRET = "demo-secret"  # noqa: S105 - a published demo credential, not a secret
NOEXPORT_CLIENT = "NOEXPORT"
NOEXPORT_SECRET = "noexport-secret"  # noqa: S105


@dataclass(frozen=True)
class ApiClient:
    """An API client of one tenant: the credentials a connector uses to get a token."""

    tenant: str
    name: str
    secret: str
    export_allowed: bool = True

    @property
    def client_id(self) -> str:
        """A stable UUID for the client (shown in 403 bodies and as ``created_by``)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"welkin-emulator:{self.tenant}:{self.name}"))


@dataclass
class Tenant:
    """A tenant (organisation) with its instances and API clients."""

    name: str
    instances: list[str] = field(default_factory=list)
    clients: dict[str, ApiClient] = field(default_factory=dict)


@dataclass
class EmulatorConfig:
    """Everything the server needs to know about who may call it."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    #: Webhook definitions (``welkin_emulator.webhooks``), as given in the config JSON.
    webhooks: list[dict[str, Any]] = field(default_factory=list)

    def client(self, tenant: str, name: str) -> ApiClient | None:
        """Return the API client ``name`` of ``tenant``, or None."""
        t = self.tenants.get(tenant)
        return t.clients.get(name) if t else None

    def has_instance(self, tenant: str, instance: str) -> bool:
        """Whether ``/{tenant}/{instance}`` exists."""
        t = self.tenants.get(tenant)
        return bool(t and instance in t.instances)

    def describe(self) -> str:
        """Human-readable summary printed at start-up: tenants, instances, client names.

        Never a secret, not even the published demo ones: whoever reads a log must not be
        able to use it. The README and ``welkin_emulator.testing`` name the demo secrets.
        """
        builtin = {DEFAULT_CLIENT: DEFAULT_SECRET, NOEXPORT_CLIENT: NOEXPORT_SECRET}
        lines = []
        for t in self.tenants.values():
            lines.append(f"  tenant {t.name!r}: instances {', '.join(t.instances)}")
            for c in t.clients.values():
                export = "export allowed" if c.export_allowed else "no export"
                origin = (
                    "the built-in demo secret (see README)"
                    if builtin.get(c.name) == c.secret
                    else "a secret from --config"
                )
                lines.append(f"    API client {c.name!r} with {origin} ({export})")
        return "\n".join(lines)


def default_config() -> EmulatorConfig:
    """The built-in configuration (see the module docstring)."""
    tenant = Tenant(name=DEFAULT_TENANT, instances=[DEFAULT_INSTANCE])
    for name, secret, export in (
        (DEFAULT_CLIENT, DEFAULT_SECRET, True),
        (NOEXPORT_CLIENT, NOEXPORT_SECRET, False),
    ):
        tenant.clients[name] = ApiClient(DEFAULT_TENANT, name, secret, export)
    return EmulatorConfig(tenants={tenant.name: tenant})


def config_from_dict(data: dict[str, Any]) -> EmulatorConfig:
    """Build a configuration from the JSON structure shown in the module docstring."""
    cfg = EmulatorConfig()
    tenants = data.get("tenants")
    if not isinstance(tenants, list) or not tenants:
        raise ValueError("config: 'tenants' must be a non-empty list")
    for item in tenants:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("config: every tenant needs a 'name'")
        instances = item.get("instances") or [DEFAULT_INSTANCE]
        if not all(isinstance(i, str) and i for i in instances):
            raise ValueError(f"config: tenant {name!r} has an invalid instance name")
        tenant = Tenant(name=name, instances=list(instances))
        for c in item.get("apiClients", item.get("clients", [])):
            cname, secret = c.get("name"), c.get("secret")
            if not isinstance(cname, str) or not isinstance(secret, str):
                raise ValueError(f"config: tenant {name!r} has a client without name/secret")
            export = bool(c.get("exportAllowed", c.get("export", True)))
            tenant.clients[cname] = ApiClient(name, cname, secret, export)
        cfg.tenants[name] = tenant
    cfg.webhooks = list(data.get("webhooks") or [])
    hooks_from_config(cfg.webhooks)  # a bad definition fails at start-up
    return cfg


def load_config(path: str | Path | None) -> EmulatorConfig:
    """Load ``path`` (JSON) or return the defaults when no path is given."""
    if path is None:
        return default_config()
    return config_from_dict(orjson.loads(Path(path).read_bytes()))
