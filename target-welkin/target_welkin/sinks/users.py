"""Users (tenant-wide): ``POST admin/users``, ``PATCH admin/users/{username}``, by username."""

from __future__ import annotations

from target_welkin.client import UsersApi
from target_welkin.payload import FieldSpec
from target_welkin.sinks.base import WelkinSink

TEXT = FieldSpec("text")

USER_FIELDS = {
    **dict.fromkeys(("username", "firstName", "lastName", "phone", "timezone", "locale"), TEXT),
    "email": FieldSpec("email"),
}

# Roles, seats, territories and access are administered in Welkin, not loaded.
USER_READ_ONLY = frozenset(
    {
        "territories",
        "fullTerritoriesAccessInstances",
        "roles",
        "policies",
        "seats",
        "seatAssignAllowed",
        "applicationAccess",
        "createdByName",
        "updatedByName",
        "createdBy",
        "updatedBy",
        "enabled",
        "mfaEnabled",
        "statusType",
        "createdAt",
        "updatedAt",
        "ssoAccess",
        "passwordAccess",
        "terminologyName",
        "userState",
        "customUserAttributes",
        "allowedToReceiveCalls",
        "userAttributes",
        "_root_user",
        "credentials",
    }
)


class UsersSink(WelkinSink):
    """Welkin users, keyed by username (unique per tenant)."""

    resource = "users"
    api_class = UsersApi
    fields = USER_FIELDS
    read_only = USER_READ_ONLY
    key_fields = ("username",)
