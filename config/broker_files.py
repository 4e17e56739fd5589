"""The filesystem broker `make run` uses without Redis, with each message written whole.

kombu's filesystem transport creates a message file under its final name and then writes it;
a worker polling the folder can move that file away and read it while it is still empty, and
the empty "message" is an unrecoverable error that stops the worker (seen in a test of `make
run`, whose script then stopped every process). Its exchange tables are made the same way, and
a publisher can read one empty. Here both are written under a name no reader picks up, then
put in place in one step (a rename for a message; a hard link for a new table, which also
never replaces a table another process made first): a reader finds the whole file or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.transport.filesystem import exchange_queue_t
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Readers take only names ending in ".<queue>.msg"; this suffix keeps a partial file out.
PARTIAL = ".part"


class Channel(filesystem.Channel):
    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        """Bind `queue` to `exchange`; a new exchange table appears whole."""
        self.control_folder.mkdir(exist_ok=True)
        table = self.control_folder / f"{exchange}.exchange"
        # A name that is not a plain file name is left to kombu, which refuses it.
        if table.parent == self.control_folder and not table.exists():
            entry = [exchange_queue_t(routing_key or "", pattern or "", queue or "")]
            partial = table.with_name(f"{table.name}.{uuid.uuid4()}{PARTIAL}")
            partial.write_bytes(str_to_bytes(dumps(entry)))
            try:
                os.link(partial, table)
                return
            except FileExistsError:
                pass  # another process made it first: add this queue to theirs
            finally:
                partial.unlink()
        super()._queue_bind(exchange, routing_key, pattern, queue)

    # The signature is kombu's own (its stubs ignore the same mismatch with the base class).
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Put a message on `queue`, visible only once it is complete."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
