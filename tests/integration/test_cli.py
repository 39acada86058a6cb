"""The admin's commands: doctor, db upgrade, serve's start-up checks."""

from __future__ import annotations

import asyncio
import os
import sys

from callflow.localpbx.runner import LocalPbx
from tests.harness.serve import ServeProcess, run_cli


async def test_doctor_passes_every_check_while_serve_runs(
    serve: ServeProcess, callflow_env: dict[str, str], pbx: LocalPbx
) -> None:
    await serve.start()
    await serve.wait_healthy()
    # the local run names the authority that signs the PBX's certificate: ok,
    # and the line says which file browsers must trust
    code, out = await run_cli("doctor", env={**callflow_env, "SSL_CERT_FILE": os.devnull})
    assert code == 0, out
    lines = out.strip().splitlines()
    assert [line.split()[1] for line in lines] == [
        "ARI",
        "version",
        "stasis",
        "AMI",
        "dialplan",
        "mixmonitor",
        "callback",
        "database",
        "webrtc",
        "recording",
    ]
    assert all(line.startswith("ok") for line in lines), out
    assert str(pbx.state_dir / "keys" / "ca.crt") in lines[-2]
    assert f"{pbx.state_dir / 'spool' / 'monitor'} is writable" in lines[-1]
    assert "Stasis(callflow,...) in callflow-agents: *11, *12" in out
    assert "callflow-inbound: 100, 200, 201" in out
    assert "customers are called back in callflow-callback: _X." in out
    # without it, on a host that trusts no certificate: a warning saying what to do
    untrusting = {k: v for k, v in callflow_env.items() if k != "CALLFLOW_PHONE__WEBRTC_CA_FILE"}
    code, out = await run_cli("doctor", env={**untrusting, "SSL_CERT_FILE": os.devnull})
    assert code == 0, out  # a warning only
    webrtc = next(line for line in out.splitlines() if " webrtc " in line)
    assert webrtc.startswith("warn") and "set phone.webrtc_ca_file" in webrtc, webrtc


async def test_doctor_names_a_wrong_ari_password_and_fails(callflow_env: dict[str, str]) -> None:
    env = {**callflow_env, "CALLFLOW_ARI__PASSWORD": "wrong-password-123"}
    code, out = await run_cli("doctor", env=env)
    assert code == 1
    ari_line = next(line for line in out.splitlines() if " ARI " in f" {line} ")
    assert ari_line.startswith("FAIL")
    assert "check ari.user and ari.password" in ari_line
    assert "wrong-password-123" not in out


async def test_doctor_names_a_wrong_ami_secret_and_fails(callflow_env: dict[str, str]) -> None:
    env = {**callflow_env, "CALLFLOW_AMI__SECRET": "wrong-secret-4567"}
    code, out = await run_cli("doctor", "--timeout", "3", env=env)
    assert code == 1
    ami_line = next(line for line in out.splitlines() if " AMI " in f" {line} ")
    assert ami_line.startswith("FAIL") and "ami.secret" in ami_line, out


async def test_localpbx_shows_sip_passwords_when_made_and_then_only_on_request() -> None:
    from callflow.localpbx.runner import LocalPbx

    name = f"secrets-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLFLOW_")}
    env |= {k: v for k, v in os.environ.items() if k == "CALLFLOW_ASTERISK"}

    async def localpbx(*args: str, http_port: str | None = None) -> str:
        port = {"CALLFLOW_HTTP__PORT": http_port} if http_port else {}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "callflow.localpbx", *args, "--name", name, env=env | port,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, out.decode()
        return out.decode()

    try:
        first = await localpbx("up")
        pbx = LocalPbx.open(name)
        secret = pbx.config.account_objects()[0].password
        assert secret in first
        assert "http://127.0.0.1:8080/console/" in first
        again = await localpbx("up", http_port="18123")  # the port callflow will listen on
        assert secret not in again and "python -m callflow.localpbx accounts" in again
        assert "http://127.0.0.1:18123/console/" in again
        assert secret in await localpbx("accounts")
    finally:
        await localpbx("down")
        LocalPbx.open(name).remove()
