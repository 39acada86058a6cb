"""WAL checkpoints run in a thread; stopping them must never close the
connection under a checkpoint still running there (that crashes the process)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from callflow.db.checkpoints import run_checkpoints


def wal_database(path: Path) -> None:
    connection = sqlite3.connect(str(path), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE t (x BLOB)")
    connection.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,) for _ in range(2000)])
    connection.close()


async def test_stopping_checkpoints_mid_checkpoint_leaves_the_process_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    wal_database(path)
    writer = sqlite3.connect(str(path), isolation_level=None)
    for n in range(60):
        # something to copy back: a checkpoint that takes a while
        writer.executemany("INSERT INTO t VALUES (?)", [(b"y" * 4000,)] * 300)
        task = asyncio.create_task(run_checkpoints(path, every=0.0))
        await asyncio.sleep(0.001 * (n % 5))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (2000 + 60 * 300,)
    writer.close()
