"""A migrated SQLite database in a test's directory, loaded from a directory file."""

from __future__ import annotations

from pathlib import Path

from callflow.db import migrate
from callflow.db.engine import Database
from callflow.directory import apply_directory, parse_directory


async def directory_db(tmp_path: Path, text: str, name: str) -> tuple[Database, Path]:
    """``name``.db migrated, with ``text`` written as directory.toml and applied."""
    url = f"sqlite:///{tmp_path}/{name}.db"
    migrate.upgrade(url)
    path = tmp_path / "directory.toml"
    path.write_text(text)
    db = Database(url)
    await apply_directory(db, parse_directory(path))
    return db, path
