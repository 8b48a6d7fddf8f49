"""Singer output: msgspec-encoded, flushed per STATE rather than per record."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage

from tap_welkin.progress import record_written

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class WelkinMessageWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer without a flush (a write system call) after every record.

    Records are flushed with the next non-RECORD message, so every record a STATE
    message covers reaches the target before that STATE does.
    """

    @override
    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if isinstance(message, RecordMessage):
            record_written(message.stream)
        else:
            sys.stdout.flush()
