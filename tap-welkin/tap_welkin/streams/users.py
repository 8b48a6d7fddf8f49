"""Users (tenant-level)."""

from __future__ import annotations

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas
from tap_welkin.extraction import ListStream


class UsersStream(ListStream):
    """Every user of the tenant, from ``GET admin/users`` (metaInfo pages of 1000).

    Read ahead with the other feeds. Full table: Welkin does not reliably bump a
    user's ``updatedAt`` on change (a recorded PATCH returned the old value), and
    users are few.
    """

    name = "users"
    path = "users"
    admin_scope = True
    paginator_class = MetaInfoPaginator
    schema = schemas.USER
    replication_key = None
