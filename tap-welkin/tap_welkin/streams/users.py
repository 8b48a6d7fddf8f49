"""Users (tenant-level)."""

from __future__ import annotations

import sys

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas
from tap_welkin.extraction import ListStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class UsersStream(ListStream):
    """Every user of the tenant, from ``GET admin/users`` (metaInfo pages of 1000).

    Read ahead with the other feeds. Full table: Welkin does not reliably bump a
    user's ``updatedAt`` on change (a recorded PATCH returned the old value), and
    users are few. Each run starts with an ``ACTIVATE_VERSION`` message and versions
    its records, so a target that applies it (target-postgres ``activate_version``)
    removes or marks the users gone from Welkin; ``emit_activate_version_messages:
    false`` turns that off.
    """

    name = "users"
    path = "users"
    admin_scope = True
    paginator_class = MetaInfoPaginator
    schema = schemas.USER
    replication_key = None

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # On unless turned off: the SDK's default is off for every stream.
        return bool(self.config.get("emit_activate_version_messages", True))
