"""Password hashing never runs on the event loop that routes calls."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from callflow import auth
from callflow.auth import Auth
from callflow.db.models import Role
from tests.flow.conftest import Center

NO_HASH_AT_IMPORT = """
import pwdlib
def refuse(self, *args, **kwargs):
    raise SystemExit("a password was hashed at import")
pwdlib.PasswordHash.hash = refuse
import callflow.auth, callflow.app
print("imported")
"""


def test_importing_callflow_hashes_no_password() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_HASH_AT_IMPORT], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "imported", done.stderr


async def test_sign_in_and_password_changes_hash_in_a_worker_thread(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    hasher = auth._hasher
    real_verify, real_hash = hasher.verify_and_update, hasher.hash

    def verify(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real_verify(*args, **kwargs)

    def hash_(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(hasher, "verify_and_update", verify)
    monkeypatch.setattr(hasher, "hash", hash_)
    monkeypatch.setattr(auth, "_dummy_hash", None)  # made again: an unknown user hashes too
    users = Auth(center.db)
    await users.add_user("sue", "a-long-password-1", Role.SUPERVISOR)
    assert await users.sign_in("sue", "a-long-password-1") is not None
    assert await users.sign_in("sue", "a-wrong-password") is None
    assert await users.sign_in("nobody", "a-long-password-1") is None
    await users.set_password("sue", "another-long-password")
    assert len(threads) >= 5 and loop_thread not in threads


async def test_expired_tokens_stop_working_and_are_purged(center: Center) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import select

    from callflow.auth import digest
    from callflow.db.models import AuthToken

    users = Auth(center.db)
    await users.add_user("tim", "a-long-password-2", Role.AGENT)
    signed = await users.sign_in("tim", "a-long-password-2")
    assert signed is not None
    token = signed[1]
    assert await users.valid({digest(token)}) == {digest(token)}
    async with center.db.session() as session:
        row = (await session.exec(select(AuthToken))).one()
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        await session.commit()
    assert await users.user_for(token) is None
    assert await users.valid({digest(token)}) == set()
    assert await users.purge_expired() == 1
    async with center.db.session() as session:
        assert (await session.exec(select(AuthToken))).all() == []
