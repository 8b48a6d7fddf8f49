"""Singer output: msgspec-encoded, buffered, flushed per STATE rather than per record."""

from __future__ import annotations

import atexit
import datetime as dt
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import Message, RecordMessage

from tap_welkin.progress import record_written

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

#: Bytes of RECORD lines held before a write; a STATE or any other message writes them at once.
BUFFER_BYTES = 256 * 1024


class WelkinMessageWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer with its own output buffer.

    Records are written with the next non-RECORD message (or when the buffer is
    full), so every record a STATE message covers reaches the target before that
    STATE does. The buffer is the tap's own: under ``PYTHONUNBUFFERED`` (set by
    many runners) ``sys.stdout.buffer`` makes every record a write system call.
    Only the main thread writes.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Create the writer with an empty buffer."""
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        # Records after the last STATE (a full-table stream's) are written at exit.
        atexit.register(self.flush)

    @override
    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if isinstance(message, RecordMessage):
            record_written(message.stream)
        if not isinstance(message, RecordMessage) or len(self._pending) >= BUFFER_BYTES:
            self.flush()

    def write_record(self, stream: str, record: dict[str, t.Any], version: int | None) -> None:
        """Write one RECORD message, byte for byte what ``write_message`` writes for it."""
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = dt.datetime.now(dt.timezone.utc)
        pending = self._pending
        encoder.encode_into(message, pending, -1)
        pending += b"\n"
        record_written(stream)
        if len(pending) >= BUFFER_BYTES:
            self.flush()

    def write_records(
        self, stream: str, records: list[dict[str, t.Any]], version: int | None
    ) -> None:
        """``write_record`` for each of ``records``, extracted at one instant: the same lines.

        msgspec writes a dict's keys in order without spaces, so a line is the message's
        fixed prefix, the encoded record and the fixed suffix.
        """
        encode = encoder.encode
        prefix = b'{"type":"RECORD","stream":' + encode(stream) + b',"record":'
        suffix = b',"version":' + encode(version) if version is not None else b""
        suffix += b',"time_extracted":' + encode(dt.datetime.now(dt.timezone.utc)) + b"}\n"
        pending = self._pending
        encode_into = encoder.encode_into
        for record in records:
            pending += prefix
            encode_into(record, pending, -1)
            pending += suffix
        record_written(stream, len(records))
        if len(pending) >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write and flush what is buffered."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()
