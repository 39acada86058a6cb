"""SQLite's WAL checkpoints off the write path.

Theory of operation
-------------------
In WAL mode a commit appends to the ``-wal`` file; now and then the pages
are copied back into the database file and fsynced (a checkpoint). By
default the commit that fills the WAL past 1,000 pages does it, and every
write waiting behind it (a round of messages, a call's record) waits out a
copy and an fsync: a tenth of a second and more. The service's connection
turns automatic checkpoints off (``wal_autocheckpoint=0``) and this task
runs a PASSIVE checkpoint every ``EVERY`` seconds on a connection of its
own, in a thread: PASSIVE never takes the writers' lock, so commits go on
while it copies. When the last connection closes, SQLite checkpoints what
is left, as always. A cancelled task does not stop a checkpoint already
running in its thread, so the connection is closed under the same lock the
checkpoint holds: closing it under a running checkpoint crashes the process.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("callflow.db")

EVERY = 1.0  # seconds between checkpoints


async def run_checkpoints(path: Path, every: float = EVERY) -> None:
    """Checkpoint ``path``'s WAL every ``every`` seconds until cancelled."""
    connection = await asyncio.to_thread(_connect, path)
    using = threading.Lock()
    try:
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(_checkpoint, connection, using)
            except sqlite3.Error as error:  # busy, or the disk: try again next time
                log.warning("WAL checkpoint of %s failed: %s", path.name, error)
    finally:
        with using:  # waits out a checkpoint still running (milliseconds)
            connection.close()


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


def _checkpoint(connection: sqlite3.Connection, using: threading.Lock) -> None:
    with using:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
