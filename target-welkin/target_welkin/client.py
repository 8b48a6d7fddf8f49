"""The Welkin write client: lookups, create-with-recheck and partial patches.

Everything goes through ``welkin_client.WelkinClient`` (auth, rate budget,
retry policy, error classification). One ``ResourceApi`` per kind of Welkin
resource knows its routes (spec section 5 and the recordings): patients and
calendar events are looked up by external key with ``?type=``, users by
username, CDT records and encounters by listing their patient's records.
"""

from __future__ import annotations

import threading
import typing as t
from urllib.parse import quote

from welkin_client import WelkinClient, WelkinNotFound
from welkin_client.pagination import MetaInfoPaginator, NamedPagePaginator

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

Json = dict[str, t.Any]
T = t.TypeVar("T")

# Welkin's ``type`` switch of GET patients/{key} per external key field.
PATIENT_KEY_TYPES = {"externalId": "EID", "externalGuid": "EGUID", "mrn": "MRN"}
LIST_PAGE_SIZE = 1000


def _seg(value: str) -> str:
    """One URL path segment (keys may hold ``/`` or spaces)."""
    return quote(value, safe="")


class ResourceApi:
    """Routes of one kind of Welkin resource. ``parent_id`` is the Welkin patient id, if any."""

    deletable: t.ClassVar[bool] = False
    """Whether Welkin's API deletes this kind of resource (patients and users: no)."""

    def __init__(self, client: WelkinClient) -> None:
        """Use ``client`` for every call."""
        self.client = client

    def get(self, welkin_id: str, parent_id: str | None) -> Json | None:
        """The resource with this Welkin id, or None when this instance has none."""
        try:
            return t.cast(
                "Json", self.client.request("GET", self.item_path(welkin_id, parent_id)).json()
            )
        except WelkinNotFound:
            return None

    def item_path(self, welkin_id: str, parent_id: str | None) -> str:
        """Path of one resource."""
        raise NotImplementedError

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """Every resource whose ``key_field`` equals ``value``."""
        raise NotImplementedError

    def create(self, body: Json, parent_id: str | None) -> Json:
        """POST ``body`` once (the caller decides about retries)."""
        raise NotImplementedError

    def update(self, welkin_id: str, body: Json, parent_id: str | None, payload: Json) -> Json:
        """PATCH ``body`` (only changed fields) onto the resource, once."""
        return t.cast(
            "Json",
            self.client.send("PATCH", self.item_path(welkin_id, parent_id), json=body).json(),
        )

    def delete(self, welkin_id: str, parent_id: str | None) -> None:
        """DELETE the resource once; one already gone counts as deleted."""
        try:
            self.client.send("DELETE", self.item_path(welkin_id, parent_id))
        except WelkinNotFound:
            return

    @staticmethod
    def welkin_id(resource: Json) -> str:
        """The Welkin id of a resource as Welkin returned it."""
        return str(resource["id"])

    @staticmethod
    def values(resource: Json) -> Json:
        """The resource's field values, as a payload would name them."""
        return resource


class PatientsApi(ResourceApi):
    """``/{tenant}/{instance}/patients``; lookups ``GET patients/{key}?type=EID|EGUID|MRN``."""

    def item_path(self, welkin_id: str, parent_id: str | None) -> str:
        """``patients/{patientId}``."""
        return f"patients/{_seg(welkin_id)}"

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """At most one patient: Welkin's lookup answers one record or 404."""
        params = {"type": PATIENT_KEY_TYPES[key_field]}
        try:
            found = self.client.request("GET", f"patients/{_seg(value)}", params=params).json()
        except WelkinNotFound:
            return []
        return [found] if isinstance(found, dict) else list(found)

    def create(self, body: Json, parent_id: str | None) -> Json:
        """``POST patients`` (201)."""
        return t.cast("Json", self.client.send("POST", "patients", json=body).json())


class UsersApi(ResourceApi):
    """Tenant-wide ``/{tenant}/admin/users``: read by id with ``?type=ID``, else by username."""

    def get(self, welkin_id: str, parent_id: str | None) -> Json | None:
        """``GET admin/users/{id}?type=ID``."""
        try:
            response = self.client.request(
                "GET", f"users/{_seg(welkin_id)}", params={"type": "ID"}, admin=True
            )
        except WelkinNotFound:
            return None
        return t.cast("Json", response.json())

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """``GET admin/users/{username}``."""
        try:
            found = self.client.request("GET", f"users/{_seg(value)}", admin=True).json()
        except WelkinNotFound:
            return []
        return [found]

    def create(self, body: Json, parent_id: str | None) -> Json:
        """``POST admin/users`` (201, PROVISIONED)."""
        return t.cast("Json", self.client.send("POST", "users", json=body, admin=True).json())

    def update(self, welkin_id: str, body: Json, parent_id: str | None, payload: Json) -> Json:
        """``PATCH admin/users/{username}`` once: Welkin patches users by username."""
        path = f"users/{_seg(str(payload['username']))}"
        return t.cast("Json", self.client.send("PATCH", path, json=body, admin=True).json())


class CalendarEventsApi(ResourceApi):
    """``calendar/events``; lookup ``GET calendar/events/{externalId}?type=EXTERNAL_ID``."""

    deletable = True

    def item_path(self, welkin_id: str, parent_id: str | None) -> str:
        """``calendar/events/{eventId}``."""
        return f"calendar/events/{_seg(welkin_id)}"

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """At most one event."""
        try:
            found = self.client.request(
                "GET", f"calendar/events/{_seg(value)}", params={"type": "EXTERNAL_ID"}
            ).json()
        except WelkinNotFound:
            return []
        return [found] if isinstance(found, dict) else list(found)

    def create(self, body: Json, parent_id: str | None) -> Json:
        """``POST calendar/events`` (201)."""
        return t.cast("Json", self.client.send("POST", "calendar/events", json=body).json())


class CdtRecordsApi(ResourceApi):
    """``patients/{patientId}/cdts/{cdtName}``: flat bodies; records keep fields in ``jsonBody``."""

    deletable = True

    def __init__(self, client: WelkinClient, cdt_name: str) -> None:
        """Records of the CDT ``cdt_name``."""
        super().__init__(client)
        self.cdt_name = cdt_name

    def collection(self, parent_id: str | None) -> str:
        """The patient's records of this CDT."""
        return f"patients/{_seg(str(parent_id))}/cdts/{_seg(self.cdt_name)}"

    def item_path(self, welkin_id: str, parent_id: str | None) -> str:
        """One record."""
        return f"{self.collection(parent_id)}/{_seg(welkin_id)}"

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """Records of the patient whose ``jsonBody[key_field]`` is ``value``."""
        records = self.client.paginate(
            self.collection(parent_id), NamedPagePaginator(), params={"size": LIST_PAGE_SIZE}
        )
        return [r for r in records if self.values(r).get(key_field) == value]

    def create(self, body: Json, parent_id: str | None) -> Json:
        """``POST`` a flat field map (201)."""
        return t.cast(
            "Json", self.client.send("POST", self.collection(parent_id), json=body).json()
        )

    @staticmethod
    def values(resource: Json) -> Json:
        """``jsonBody``."""
        return t.cast("Json", resource.get("jsonBody") or {})


class EncountersApi(CdtRecordsApi):
    """``patients/{patientId}/encounters`` (metaInfo pages, records in ``jsonBody``)."""

    def __init__(self, client: WelkinClient) -> None:
        """Encounters of patients."""
        super().__init__(client, "__encounter__")

    def collection(self, parent_id: str | None) -> str:
        """The patient's encounters."""
        return f"patients/{_seg(str(parent_id))}/encounters"

    def find(self, key_field: str, value: str, parent_id: str | None) -> list[Json]:
        """Encounters of the patient whose ``jsonBody[key_field]`` is ``value``."""
        records = self.client.paginate(
            self.collection(parent_id), MetaInfoPaginator(), params={"size": LIST_PAGE_SIZE}
        )
        return [r for r in records if self.values(r).get(key_field) == value]


class Attempts:
    """Counts the attempts of one write (more than one means it was retried)."""

    def __init__(self) -> None:
        """No attempt yet."""
        self.count = 0


class WelkinWriter:
    """The target's one connection to Welkin: shared client, resource APIs and formations."""

    def __init__(self, config: Mapping[str, t.Any], *, user_agent: str, pool_size: int) -> None:
        """Build the shared ``WelkinClient``."""
        self.client = WelkinClient(config, user_agent=user_agent, pool_size=pool_size)
        self._formations: dict[str, Json] | None = None
        self._lock = threading.Lock()

    def check_credentials(self) -> None:
        """Fetch a token now, so wrong credentials stop the run before any record."""
        _ = self.client.tokens.token

    def cdt_formations(self) -> dict[str, Json]:
        """CDT definitions of the instance by name (``GET formations/current/cdts``), read once."""
        with self._lock:
            if self._formations is None:
                body = self.client.request("GET", "formations/current/cdts").json()
                items = body if isinstance(body, list) else []
                self._formations = {str(c["name"]): c for c in items if isinstance(c, dict)}
            return self._formations

    def create_with_recheck(
        self,
        api: ResourceApi,
        body: Json,
        parent_id: str | None,
        recheck: Callable[[], Json | None],
        attempts: Attempts,
    ) -> tuple[Json, bool]:
        """Create once, surviving ambiguous failures without a duplicate.

        Before every attempt after the first, ``recheck`` looks the record's key
        up again: a timeout, dropped connection or 5xx may hide a create that
        landed. Returns the resource and whether it was found by a recheck.
        """

        def attempt() -> tuple[Json, bool]:
            attempts.count += 1
            if attempts.count > 1:
                landed = recheck()
                if landed is not None:
                    return landed, True
            return api.create(body, parent_id), False

        return self.client.retrying(attempt)

    def counted(self, call: Callable[[], T], attempts: Attempts) -> T:
        """``call`` under the shared retry policy, counting attempts (a patch is idempotent)."""

        def attempt() -> T:
            attempts.count += 1
            return call()

        return self.client.retrying(attempt)

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()
