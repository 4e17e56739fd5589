"""The filesystem broker of `make run` (config/broker_files.py): a worker polling the folder
gets every message whole while another process writes them, and queues bound to one
exchange by two processes are both kept.

kombu's own filesystem transport, under the first test's load here, handed the reader a
message it had not finished writing about once in 200 (a JSONDecodeError, the message lost;
in a worker, an unrecoverable error that stops it)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

from kombu import Connection

from config.broker_files import Channel

TRANSPORT = "config.broker_files:Transport"
MESSAGES = 150
SIZE = 1_000_000  # large enough that writing one takes a while

PRODUCER = """
import hashlib, sys
from kombu import Connection
folder, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder,
           "store_processed": False}
with Connection(transport=%r, transport_options=options) as connection:
    queue = connection.SimpleQueue("work")
    for n in range(count):
        body = str(n) * (size // len(str(n)))
        queue.put({"n": n, "body": body, "sha": hashlib.sha256(body.encode()).hexdigest()})
"""


def _options(folder: Path) -> dict[str, Any]:
    where = str(folder)
    return {
        "data_folder_in": where,
        "data_folder_out": where,
        "control_folder": where,
        "store_processed": False,
    }


def test_a_polling_worker_gets_every_message_whole_while_another_process_writes(
    tmp_path: Path,
) -> None:
    received: list[int] = []
    with Connection(transport=TRANSPORT, transport_options=_options(tmp_path)) as connection:
        queue = connection.SimpleQueue("work")
        producer = subprocess.Popen(
            [sys.executable, "-c", PRODUCER % TRANSPORT, str(tmp_path), str(MESSAGES), str(SIZE)]
        )
        try:
            while len(received) < MESSAGES:
                message = queue.get(timeout=30)  # raises Empty if one never arrives
                body = message.payload
                assert hashlib.sha256(body["body"].encode()).hexdigest() == body["sha"]
                received.append(body["n"])
                message.ack()
        finally:
            producer.wait(timeout=60)
    assert producer.returncode == 0
    assert sorted(received) == list(range(MESSAGES))
    assert not list(tmp_path.glob("*.part"))  # nothing half-written left behind


def test_queues_bound_to_one_exchange_from_two_connections_are_both_kept(tmp_path: Path) -> None:
    options = _options(tmp_path)
    with (
        Connection(transport=TRANSPORT, transport_options=options) as first,
        Connection(transport=TRANSPORT, transport_options=options) as second,
    ):
        for connection, queue in ((first, "one"), (second, "two")):
            channel = cast(Channel, connection.default_channel)
            channel.exchange_declare("jobs", type="direct")
            channel.queue_declare(queue)
            channel.queue_bind(queue, "jobs", queue)
        table = cast(Channel, first.default_channel).get_table("jobs")
    assert sorted(entry.queue for entry in table) == ["one", "two"]
    assert not list(tmp_path.glob("*.part"))
