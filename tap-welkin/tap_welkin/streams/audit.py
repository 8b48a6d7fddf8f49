"""The tenant's audit feeds (spec 4.11): every change event, and every webhook delivery.

Both are optional (not selected by default): the data audit feed of a real tenant
holds about 87,000 events and the webhook audit close to a million. Both
replicate on ``sentAt``, which ``dateStart`` filters on server-side. The data
audit feed is also where ``tap_welkin.deletes`` finds the deletes it emits as
tombstones on the deleted records' own streams.
"""

from __future__ import annotations

import typing as t

from welkin_client.pagination import MetaInfoPaginator

from tap_welkin import schemas_designer
from tap_welkin.deletes import AUDIT_PATH, AUDIT_STREAM
from tap_welkin.streams.kinds import ResourceStream


class DataAuditStream(ResourceStream):
    """Every change event of the tenant (creates, updates, deletes), with the changed record.

    Events have no reliable key (``eventId`` is mostly null): targets append them.
    """

    name = AUDIT_STREAM
    schema = schemas_designer.DATA_AUDIT_EVENT
    primary_keys: t.ClassVar[tuple[str, ...]] = ()  # type: ignore[misc]
    replication_key = "sentAt"
    selected_by_default = False
    admin_scope = True
    list_path = AUDIT_PATH
    list_paginator = MetaInfoPaginator
    # Oldest first: the feed's default order is not chronological.
    list_params = {"sort": "createdAt,asc"}  # noqa: RUF012 - read-only
    start_param = "dateStart"


class WebhookAuditStream(ResourceStream):
    """Every webhook delivery attempt, with its status and the webhook's definition."""

    name = "webhook_audit"
    schema = schemas_designer.WEBHOOK_AUDIT_EVENT
    replication_key = "sentAt"
    selected_by_default = False
    admin_scope = True
    list_path = "audit-webhook"
    list_paginator = MetaInfoPaginator
    list_params = {"sort": "createdAt,asc"}  # noqa: RUF012 - read-only
    start_param = "dateStart"
