"""Run a real Asterisk with the project's asterisk-conf, for development and tests.

Theory of operation
-------------------
``scripts/provision-asterisk.sh`` installs Asterisk once, on the PATH or in a
Debian chroot (``callflow.localpbx.install`` finds it). This module renders
``asterisk-conf/`` into a per-instance state directory (inside the chroot when
there is one, since Asterisk reads its files from there), picks free loopback
ports and fresh secrets for the instance, starts ``asterisk -f`` in its own
process group, and waits until ARI answers. A chroot shares the host's
network, so ARI, AMI and SIP are reachable on 127.0.0.1 from the host.

Ports and secrets are kept in ``pbx.json`` so that ``stop()`` then
``start()`` (or a second ``up`` of the same named instance) comes back on the same ports with
the same credentials: callflow, already running, can reconnect.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from callflow.localpbx.certs import ensure_certificates
from callflow.localpbx.install import CACHE_DIR, Install, PbxError, find_install
from callflow.localpbx.render import Account, Peer, render_tree

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATES = REPO_ROOT / "asterisk-conf"
STATE_BASE = "var/lib/callflow-pbx"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def new_secret() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class PbxConfig:
    """One instance's ports and credentials (persisted as pbx.json)."""

    name: str
    app: str = "callflow"
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)  # TLS: browser phones' WSS
    ami_port: int = field(default_factory=free_port)
    sip_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    # RTP in one of ten blocks of 2,000 ports above 40000: instances side by side
    # rarely share a block, and it stays clear of the fixed ports below 32000
    # that SIP peers (and the test harness) bind
    rtp_start: int = field(default_factory=lambda: 40000 + 2000 * random.randrange(10))
    ari_user: str = "callflow"
    ari_password: str = field(default_factory=new_secret)
    ami_user: str = "callflow"
    ami_secret: str = field(default_factory=new_secret)
    metrics_token: str = field(default_factory=new_secret)  # Prometheus's scrape of /metrics
    accounts: list[dict[str, str | None]] = field(default_factory=list)
    peers: list[dict[str, str | int]] = field(default_factory=list)  # other servers (Peer)

    @property
    def rtp_end(self) -> int:
        return self.rtp_start + 1999

    @property
    def wss_url(self) -> str:
        """Where browser phones reach the PBX's SIP over secure WebSocket."""
        return f"wss://127.0.0.1:{self.https_port}/ws"

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def account_objects(self) -> list[Account]:
        return [Account(**a) for a in self.accounts]  # type: ignore[arg-type]

    def peer_objects(self) -> list[Peer]:
        return [Peer(**p) for p in self.peers]  # type: ignore[arg-type]

    def callflow_env(self) -> dict[str, str]:
        """Environment that points callflow at this PBX."""
        return {
            "CALLFLOW_ARI__URL": self.ari_url,
            "CALLFLOW_ARI__USER": self.ari_user,
            "CALLFLOW_ARI__PASSWORD": self.ari_password,
            "CALLFLOW_ARI__APP": self.app,
            "CALLFLOW_AMI__HOST": "127.0.0.1",
            "CALLFLOW_AMI__PORT": str(self.ami_port),
            "CALLFLOW_AMI__USER": self.ami_user,
            "CALLFLOW_AMI__SECRET": self.ami_secret,
        }


def default_accounts() -> list[dict[str, str | None]]:
    return [
        asdict(Account(name=name, kind=kind, password=new_secret()))
        for name, kind in (
            ("agent1", "agent"),
            ("agent2", "agent"),
            ("expert1", "expert"),
            ("expert2", "expert"),
            ("supervisor1", "supervisor"),
        )
    ]


class LocalPbx:
    """A running (or runnable) Asterisk instance with its own state directory."""

    def __init__(
        self, config: PbxConfig, install: Install, templates: Path = DEFAULT_TEMPLATES
    ) -> None:
        self.config = config
        self.install = install
        self.templates = templates
        self.inner_dir = f"/{STATE_BASE}/{config.name}"
        self.state_dir = install.host_path(self.inner_dir)
        self._process: subprocess.Popen[bytes] | None = None
        self.created = False  # True when open() made new ports and secrets
        self.extra_files: dict[str, str] = {}  # e.g. extensions_local.conf for tests

    # -- construction -------------------------------------------------------

    @classmethod
    def open(
        cls,
        name: str,
        *,
        app: str = "callflow",
        fresh: bool = False,
        accounts: list[Account] | None = None,
        cache_dir: Path = CACHE_DIR,
    ) -> LocalPbx:
        """Load the named instance's pbx.json, or create one with new ports/secrets."""
        install = find_install(cache_dir)
        state_file = install.host_path(f"/{STATE_BASE}/{name}/pbx.json")
        if state_file.exists() and not fresh:
            config = PbxConfig(**json.loads(state_file.read_text()))
            return cls(config, install)
        config = PbxConfig(name=name, app=app)
        config.accounts = (
            [asdict(a) for a in accounts] if accounts is not None else default_accounts()
        )
        pbx = cls(config, install)
        pbx.created = True  # new secrets: shown once
        return pbx

    @property
    def log_file(self) -> Path:
        return self.state_dir / "log" / "messages.log"

    @property
    def console_file(self) -> Path:
        return self.state_dir / "console.log"

    def template_values(self) -> dict[str, str]:
        """Values for the ${PBX_*} placeholders of asterisk-conf/."""
        config = self.config
        return {
            "PBX_ETC_DIR": f"{self.inner_dir}/etc",
            "PBX_STATE_DIR": self.inner_dir,
            "PBX_MOD_DIR": self.install.mod_dir,
            "PBX_VARLIB_DIR": "/var/lib/asterisk",
            "PBX_DATA_DIR": "/usr/share/asterisk",
            "PBX_BIND_ADDR": "127.0.0.1",
            "PBX_HTTP_PORT": str(config.http_port),
            "PBX_HTTPS_PORT": str(config.https_port),
            "PBX_TLS_CERT": f"{self.inner_dir}/keys/asterisk.crt",
            "PBX_TLS_KEY": f"{self.inner_dir}/keys/asterisk.key",
            "PBX_AMI_PORT": str(config.ami_port),
            "PBX_AMI_PERMIT": "127.0.0.1/255.255.255.255",
            "PBX_SIP_BIND_ADDR": "127.0.0.1",
            "PBX_SIP_PORT": str(config.sip_port),
            "PBX_RTP_START": str(config.rtp_start),
            "PBX_RTP_END": str(config.rtp_end),
            "PBX_ARI_USER": config.ari_user,
            "PBX_ARI_PASSWORD": config.ari_password,
            "PBX_AMI_USER": config.ami_user,
            "PBX_AMI_SECRET": config.ami_secret,
            "PBX_APP": config.app,
            "PBX_TRUNK_HOST": "127.0.0.1:5060",
            "PBX_TRUNK_MATCH": "127.0.0.1",
            "PBX_ICE_PERMIT": "127.0.0.0/8",
        }

    def callflow_env(self) -> dict[str, str]:
        """Environment that points callflow at this PBX, prompts included
        (written where Asterisk, maybe in a chroot, can read them)."""
        return {
            **self.config.callflow_env(),
            "CALLFLOW_PHONE__PROMPTS_DIR": str(self.state_dir / "prompts"),
            "CALLFLOW_PHONE__PROMPTS_ASTERISK_DIR": f"{self.inner_dir}/prompts",
            # Asterisk's <astspooldir>/monitor (MixMonitor's), as this host sees it
            "CALLFLOW_RECORDING__DIR": str(self.state_dir / "spool" / "monitor"),
            "CALLFLOW_CALLBACK__CONTEXT": "callflow-callback",  # the shipped dialplan's
            "CALLFLOW_PHONE__WEBRTC_URL": self.config.wss_url,
            "CALLFLOW_PHONE__WEBRTC_CA_FILE": str(self.state_dir / "keys" / "ca.crt"),
            "CALLFLOW_PHONE__WEBRTC_CODECS": "opus,ulaw" if self.has_opus() else "ulaw",
        }

    def has_opus(self) -> bool:
        """Whether this Asterisk can transcode Opus (browser phones prefer it)."""
        return any(self.install.host_path(self.install.mod_dir).glob("codec_opus*.so"))

    def write_config(self) -> None:
        config = self.config
        for sub in ("etc", "db", "spool", "spool/monitor", "run", "log", "cache"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)
        state_file = self.state_dir / "pbx.json"
        state_file.write_text(json.dumps(asdict(config), indent=2))
        state_file.chmod(0o600)
        ensure_certificates(self.state_dir / "keys")
        values = self.template_values()
        render_tree(
            self.templates, self.state_dir / "etc", values, config.account_objects(),
            peers=(config.name, config.peer_objects()),
        )  # fmt: skip
        for name, text in self.extra_files.items():
            (self.state_dir / "etc" / name).write_text(text)
        env_file = self.state_dir / "callflow.env"
        env = {
            **self.callflow_env(),
            "CALLFLOW_DB__URL": f"sqlite:///{self.state_dir}/callflow.db",
            "CALLFLOW_METRICS__TOKEN": config.metrics_token,
        }
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        env_file.chmod(0o600)
        if self.install.chrooted:
            # the chroot resolves the host's own name from /etc/hosts (no DNS stalls)
            shutil.copyfile("/etc/hosts", self.install.host_path("/etc/hosts"))

    # -- process ------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        if self._process is not None and self._process.poll() is None:
            return self._process.pid
        pid_file = self.state_dir / "asterisk.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            if _alive(pid):
                return pid
        return None

    def start(self, timeout: float = 60.0) -> None:
        if self.pid is not None:
            raise PbxError(f"PBX {self.config.name} already runs (pid {self.pid})")
        self.write_config()
        console = self.console_file.open("ab")
        self._process = subprocess.Popen(
            self.install.command("-C", f"{self.inner_dir}/etc/asterisk.conf", "-f", "-n", "-q"),
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        console.close()
        (self.state_dir / "asterisk.pid").write_text(str(self._process.pid))
        try:
            self.wait_ready(timeout)
        except PbxError:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> dict[str, object]:
        """Poll ARI's /asterisk/info until it answers 200."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.pid is None:
                raise PbxError(f"Asterisk exited during start; see {self.console_file}")
            try:
                info = self.ari_get("asterisk/info")
                assert isinstance(info, dict)
                return info
            except (OSError, urllib.error.URLError) as error:
                last = str(error)
            time.sleep(0.1)
        raise PbxError(f"ARI did not answer within {timeout:g}s ({last}); see {self.log_file}")

    def ari_get(self, path: str, timeout: float = 5.0, method: str = "GET") -> object:
        """A blocking ARI request (for provisioning and test fixtures only)."""
        config = self.config
        request = urllib.request.Request(f"{config.ari_url}ari/{path}", method=method)
        token = base64.b64encode(f"{config.ari_user}:{config.ari_password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Asterisk's quick shutdown), then SIGKILL if it lingers."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid, self._process):
            time.sleep(0.05)
        if _alive(pid, self._process):
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid, self._process):
                time.sleep(0.05)
        self._process = None
        (self.state_dir / "asterisk.pid").unlink(missing_ok=True)

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run one Asterisk CLI command against this instance."""
        result = subprocess.run(
            self.install.command("-C", f"{self.inner_dir}/etc/asterisk.conf", "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return result.stdout

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _alive(pid: int, process: subprocess.Popen[bytes] | None = None) -> bool:
    if process is not None and process.pid == pid:
        return process.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of someone else still answers kill(0); check its state
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
