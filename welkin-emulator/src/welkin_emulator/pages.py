"""The list envelopes, assembled from stored JSON text without re-encoding records.

Bodies are read from SQLite as bytes (``CAST(body AS BLOB)``) and joined as bytes: no UTF-8
decode into Python strings and encode back, which is a fifth of the cost of a 1000-record page.

Shapes (spec §3, recorded key order):

* Spring page: ``{"content", "pageable", "last", "totalElements", "totalPages", "first",
  "number", "sort", "numberOfElements", "size", "empty"}``
* named page (CDT records): ``{"name": <cdtName>, "data": <Spring page>}``
* metaInfo (users, encounters): ``{"data", "metaInfo": {"page", "pageSize", "totalElements",
  "numberOfElements", "lastPage", "firstPage", "totalPages"}}``
* export cursor: ``{"data", "cursor": {"start", "end", "hasNext"}}``
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson


def json_array(items: Sequence[bytes]) -> bytes:
    """Join stored JSON texts into a JSON array."""
    return b"[" + b",".join(items) + b"]"


def _sort_obj(sorted_: bool) -> dict[str, bool]:
    return {"sorted": sorted_, "unsorted": not sorted_, "empty": not sorted_}


def spring_page(
    items: Sequence[bytes], page: int, size: int, total: int, sorted_: bool = False
) -> bytes:
    """A Spring Data ``Page`` around ``items`` (JSON texts)."""
    total_pages = (total + size - 1) // size if size else 0
    last = (page + 1) * size >= total
    head = orjson.dumps(
        {
            "pageable": {
                "sort": _sort_obj(sorted_),
                "pageNumber": page,
                "pageSize": size,
                "offset": page * size,
                "paged": True,
                "unpaged": False,
            },
            "last": last,
            "totalElements": total,
            "totalPages": total_pages,
            "first": page == 0,
            "number": page,
            "sort": _sort_obj(sorted_),
            "numberOfElements": len(items),
            "size": size,
            "empty": len(items) == 0,
        }
    )
    return b'{"content":' + json_array(items) + b"," + head[1:]


def named_page(  # noqa: PLR0917
    name: str, items: Sequence[bytes], page: int, size: int, total: int, sorted_: bool = False
) -> bytes:
    """``{"name": name, "data": <Spring page>}`` (CDT records per patient)."""
    return (
        b'{"name":'
        + orjson.dumps(name)
        + b',"data":'
        + spring_page(items, page, size, total, sorted_)
        + b"}"
    )


def meta_info_page(items: Sequence[bytes], page: int, size: int, total: int) -> bytes:
    """``{"data": [...], "metaInfo": {...}}`` (users, encounters)."""
    total_pages = (total + size - 1) // size if size else 0
    meta = orjson.dumps(
        {
            "page": page,
            "pageSize": size,
            "totalElements": total,
            "numberOfElements": len(items),
            "lastPage": (page + 1) * size >= total,
            "firstPage": page == 0,
            "totalPages": total_pages,
        }
    )
    return b'{"data":' + json_array(items) + b',"metaInfo":' + meta + b"}"


def cursor_page(
    items: Sequence[bytes], start: str | None, end: str | None, has_next: bool
) -> bytes:
    """``{"data": [...], "cursor": {"start", "end", "hasNext"}}`` (export)."""
    cursor = orjson.dumps({"start": start, "end": end, "hasNext": has_next})
    return b'{"data":' + json_array(items) + b',"cursor":' + cursor + b"}"
