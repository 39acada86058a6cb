"""Run ``callflow`` commands as real subprocesses (what an admin runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.harness.poll import poll_until


def command_env(env: dict[str, str]) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CALLFLOW_") or k == "CALLFLOW_ASTERISK"  # which PBX, not a setting
    }
    return {**base, **env}


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callflow",
        *args,
        env=command_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode()


class ServeProcess:
    """``callflow serve`` in a subprocess with its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{env['CALLFLOW_HTTP__PORT']}"

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "callflow",
            "serve",
            env=command_env(self.env),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def health(self) -> dict[str, object] | None:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                response = await client.get(f"{self.url}/health")
        except httpx.HTTPError:
            return None
        result: dict[str, object] = response.json()
        return result

    async def wait_healthy(self, timeout: float = 20) -> None:
        async def healthy() -> bool:
            assert self.alive, f"callflow serve exited:\n{self.log}"
            return (await self.health() or {}).get("status") == "ok"

        await poll_until(healthy, timeout=timeout, message="callflow serve healthy")

    async def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0

    def kill(self) -> None:
        """SIGKILL: the crash case (no clean shutdown)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
