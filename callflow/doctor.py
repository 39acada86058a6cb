"""``callflow doctor``: is everything callflow needs there? One line per check."""

from __future__ import annotations

import asyncio
import enum
import os
import re
import shutil
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from callflow import ha
from callflow.db.engine import Database
from callflow.db.migrate import check_migrated, redact
from callflow.nodes import url_of
from callflow.settings import Settings
from callflow.telephony import ari_http as ari_adapter
from callflow.telephony.ami import AmiClient
from callflow.telephony.connection import Backoff

MIN_ASTERISK = (16, 0)
TESTED_MAJORS = (16, 22)  # the suite runs on Debian's 16 (bullseye) and 22 (unstable)
# what an older Asterisk does differently
SLOW_STASIS = (
    "channel commands may wait up to 200 ms (Stasis polls a silent channel), "
    "so answering, holding and connecting a caller take up to about 0.6 s longer"
)
HTTP_ONLY = "ARI requests go over HTTP (the event socket takes them from 20.14, 21.9, 22.4)"


def takes_socket_requests(version: tuple[int, int]) -> bool:
    """Does this Asterisk run ARI requests sent on the event socket?"""
    first = {20: (20, 14), 21: (21, 9), 22: (22, 4)}.get(version[0])
    return version[0] > 22 or (first is not None and version >= first)


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str

    def line(self) -> str:
        return f"{self.verdict.value:<4}  {self.name:<10} {self.detail}"


def parse_version(text: str) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


async def run_checks(settings: Settings, timeout: float = 5.0) -> list[Check]:
    checks: list[Check] = []
    url = settings.ari.url
    try:
        probe = await asyncio.wait_for(ari_adapter.probe(settings.ari), timeout)
    except Exception as error:
        checks.append(Check("ARI", Verdict.FAIL, f"{url}: {ari_adapter.describe_failure(error)}"))
        checks.append(Check("version", Verdict.FAIL, "unknown (ARI unreachable)"))
    else:
        checks.append(Check("ARI", Verdict.OK, f"{url} answers, user {settings.ari.user} accepted"))
        version = str(probe["info"].get("system", {}).get("version", "?"))
        checks.append(version_check(version))
        if probe["app_connected"]:
            checks.append(
                Check(
                    "stasis",
                    Verdict.OK,
                    f"app {settings.ari.app} is connected (callflow serve runs)",
                )
            )
        else:
            checks.append(
                Check(
                    "stasis",
                    Verdict.WARN,
                    f"app {settings.ari.app} has no controller connected: "
                    "calls go to [callflow-fallback] until `callflow serve` runs",
                )
            )
    checks += await _ami_checks(settings, timeout)
    checks.append(_database_check(settings))
    checks.append(await _browser_phone_check(settings, timeout))
    checks.append(recording_check(settings))
    if settings.ha.enabled:
        checks.append(await _pair_check(settings, timeout))
    return checks


async def _pair_check(settings: Settings, timeout: float) -> Check:
    """Active and standby: which node holds the active role now."""
    mine = settings.ha.node
    try:
        active = await asyncio.wait_for(ha.active_node(settings.db.url, timeout), timeout)
    except Exception as error:
        return Check("standby", Verdict.FAIL, f"cannot ask PostgreSQL who is active: {error}")
    if active is None:
        return Check(
            "standby", Verdict.FAIL, "no node holds the active role: no `callflow serve` runs"
        )
    if active == mine:
        return Check("standby", Verdict.OK, f"this node ({mine}) is active")
    said = f"node {active} is active; this node ({mine}) stands by"
    db = Database(settings.db.url)
    try:
        url = await asyncio.wait_for(url_of(db, active), timeout)
    except Exception as error:
        return Check("standby", Verdict.FAIL, f"{said}, but its URL cannot be read: {error}")
    finally:
        await db.close()
    if url is None:
        return Check("standby", Verdict.FAIL, f"{said}, but {active} has not announced its URL")
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            await client.get(f"{url}/health")
    except httpx.HTTPError as error:
        return Check(
            "standby", Verdict.FAIL,
            f"{said}, but cannot reach it at {url} to relay ({error or type(error).__name__});"
            f" set ha.url on {active} to an address this node reaches",
        )  # fmt: skip
    return Check("standby", Verdict.OK, f"{said} and relays to {url}")


async def _browser_phone_check(settings: Settings, timeout: float) -> Check:
    """The PBX's secure WebSocket, with a certificate browsers will take."""
    url = settings.phone.webrtc_url
    if url is None:
        return Check("webrtc", Verdict.OK, "browser phones off (phone.webrtc_url is not set)")
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    page = urlunsplit(("https", parts.netloc, "/", "", ""))
    ca_file = settings.phone.webrtc_ca_file
    if ca_file is not None and not ca_file.is_file():
        return Check(
            "webrtc", Verdict.FAIL,
            f"phone.webrtc_ca_file {ca_file} is not a readable file (the authority that signs"
            f" the certificate of {url})",
        )  # fmt: skip
    for verify in (True, False):
        context = ssl.create_default_context()
        if verify and ca_file is not None:
            context.load_verify_locations(cafile=str(ca_file))
        if not verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context), timeout
            )
        except ssl.SSLCertVerificationError as error:
            problem = error.verify_message or str(error)
            continue
        except (ssl.SSLError, OSError, TimeoutError) as error:
            return Check(
                "webrtc", Verdict.FAIL,
                f"{url}: cannot connect ({error or type(error).__name__}): is Asterisk's"
                " HTTPS server (http.conf tlsenable) on, and res_pjsip_transport_websocket loaded?",
            )  # fmt: skip
        writer.close()
        if verify and ca_file is not None:
            return Check(
                "webrtc", Verdict.OK,
                f"{url} answers with a certificate signed by {ca_file}: each browser that"
                f" runs a browser phone must trust that authority (import it under"
                f" Authorities) or open {page} once and accept the certificate",
            )  # fmt: skip
        if verify:
            return Check("webrtc", Verdict.OK, f"{url} answers with a certificate this host trusts")
        return Check(
            "webrtc", Verdict.WARN,
            f"{url} answers, but its certificate is not trusted here ({problem}): if a private"
            " authority signs it, set phone.webrtc_ca_file to that authority's certificate"
            " and have browsers trust it (docs/admin.md: Browser phones); else give the PBX a"
            " certificate from a public authority",
        )  # fmt: skip
    raise AssertionError("unreachable")


FREE_MIN = 200 * 1024 * 1024  # bytes: below this, a recording may be cut short


def recording_check(settings: Settings) -> Check:
    """The directory Asterisk writes recordings to, as callflow sees it."""
    folder = settings.recording.dir
    if folder is None:
        return Check("recording", Verdict.OK, "recording off (recording.dir is not set)")
    if not folder.is_dir():
        return Check("recording", Verdict.FAIL, f"{folder} is not a directory: nothing is recorded")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check(
            "recording", Verdict.FAIL,
            f"{folder} is not writable: Asterisk cannot record there, callflow cannot purge",
        )  # fmt: skip
    free = shutil.disk_usage(folder).free
    if free < FREE_MIN:
        return Check(
            "recording", Verdict.FAIL,
            f"{folder} has {free // (1024 * 1024)} MiB free: recordings will fail when it is full",
        )  # fmt: skip
    return Check("recording", Verdict.OK, f"{folder} is writable, {free // 2**30} GiB free")


def version_check(version: str) -> Check:
    """Refuse what callflow cannot run on; say what an older version does differently."""
    parsed = parse_version(version)
    if parsed is None or parsed < MIN_ASTERISK:
        return Check("version", Verdict.FAIL, f"Asterisk {version}; callflow needs 16 or newer")
    notes = [SLOW_STASIS] if parsed < (18, 0) else []
    if not takes_socket_requests(parsed):
        notes.append(HTTP_ONLY)
    if parsed[0] not in TESTED_MAJORS:
        tested = " and ".join(str(m) for m in TESTED_MAJORS)
        notes.insert(0, f"untested version (callflow's suite runs on {tested})")
        return Check("version", Verdict.WARN, f"Asterisk {version}: " + "; ".join(notes))
    detail = f"Asterisk {version}" + (f" (works; {'; '.join(notes)})" if notes else "")
    return Check("version", Verdict.OK, detail)


async def _ami_checks(settings: Settings, timeout: float) -> list[Check]:
    where = f"{settings.ami.host}:{settings.ami.port}"
    ami = AmiClient(settings.ami, backoff=Backoff(initial=timeout * 4))
    await ami.start()
    try:
        await ami.wait_ready(timeout)
    except TimeoutError:
        reason = ami.link.reason or "no answer"
        await ami.close()
        return [
            Check("AMI", Verdict.FAIL, f"{where}: {reason}"),
            Check("dialplan", Verdict.FAIL, "unknown (AMI unavailable)"),
            Check("mixmonitor", Verdict.FAIL, "unknown (AMI unavailable)"),
            Check("callback", Verdict.FAIL, "unknown (AMI unavailable)"),
        ]
    try:
        result = [Check("AMI", Verdict.OK, f"{where} login as {settings.ami.user} accepted")]
        result.append(await _dialplan_check(ami, settings.ari.app))
        result.append(await _mixmonitor_check(ami, settings))
        result.append(await _callback_check(ami, settings.callback.context))
        return result
    finally:
        await ami.close()


async def _mixmonitor_check(ami: AmiClient, settings: Settings) -> Check:
    """Calls are recorded with MixMonitor over AMI: the user needs the
    ``system`` write class. Asked of a channel that does not exist, Asterisk
    says "no such channel" when the user may run it, nothing happening."""
    if settings.recording.dir is None:
        return Check("mixmonitor", Verdict.OK, "not needed (recording.dir is not set)")
    probe = {"Action": "MixMonitor", "Channel": "callflow-doctor-no-such-channel"}
    try:
        answer = await ami.action(probe)
    except Exception as error:
        return Check("mixmonitor", Verdict.FAIL, f"MixMonitor not asked: {error}")
    message = str(answer.get("Message", ""))
    if "permission" in message.lower():
        return Check(
            "mixmonitor", Verdict.FAIL,
            f"AMI user {settings.ami.user} may not run MixMonitor ({message}): calls are not "
            "recorded; give it the system write class (asterisk-conf/manager.conf)",
        )  # fmt: skip
    return Check("mixmonitor", Verdict.OK, f"AMI user {settings.ami.user} may record calls")


async def _callback_check(ami: AmiClient, context: str | None) -> Check:
    """Queued callbacks dial ``Local/<number>@<callback.context>``: the
    context must be in the dialplan, or every callback fails."""
    if context is None:
        return Check("callback", Verdict.OK, "off (callback.context is not set)")
    try:
        answer = await ami.action({"Action": "ShowDialPlan", "Context": context}, as_list=True)
    except Exception as error:
        return Check("callback", Verdict.FAIL, f"ShowDialPlan failed: {error}")
    patterns = sorted({str(m.get("Extension")) for m in answer if m.get("Event") == "ListDialplan"})
    if not patterns:
        return Check(
            "callback", Verdict.FAIL,
            f"callback.context {context} is not in the dialplan: every callback would fail "
            "(the shipped one is [callflow-callback] in extensions.conf)",
        )  # fmt: skip
    return Check("callback", Verdict.OK, f"customers are called back in {context}: "
                 f"{', '.join(patterns)}")  # fmt: skip


async def _dialplan_check(ami: AmiClient, app: str) -> Check:
    try:
        answer = await ami.action({"Action": "ShowDialPlan"}, as_list=True)
    except Exception as error:
        return Check("dialplan", Verdict.FAIL, f"ShowDialPlan failed: {error}")
    entries = [dict(m) for m in answer if m.get("Event") == "ListDialplan"]
    if not entries and any(m.get("Response") == "Error" for m in answer):
        message = next(m.get("Message") for m in answer if m.get("Response") == "Error")
        return Check("dialplan", Verdict.FAIL, f"ShowDialPlan refused: {message}")
    # Asterisk itself adds a stasis-<app> context while the app is connected
    stasis = [
        e
        for e in entries
        if e.get("Application", "").lower() == "stasis"
        and e.get("AppData", "").split(",", 1)[0] == app
        and e.get("Context") != f"stasis-{app}"
    ]
    if not stasis:
        return Check(
            "dialplan",
            Verdict.FAIL,
            f"no extension calls Stasis({app},...): calls never reach callflow",
        )
    contexts: dict[str, list[str]] = {}
    for entry in stasis:
        contexts.setdefault(entry.get("Context", "?"), []).append(entry.get("Extension", "?"))
    shown = "; ".join(
        f"{context}: {', '.join(sorted(set(extens)))}"
        for context, extens in sorted(contexts.items())
    )
    return Check("dialplan", Verdict.OK, f"Stasis({app},...) in {shown}")


def _database_check(settings: Settings) -> Check:
    try:
        check_migrated(settings.db.url)
    except Exception as error:
        return Check("database", Verdict.FAIL, str(error))
    return Check("database", Verdict.OK, f"{redact(settings.db.url)} is migrated")


def report(checks: list[Check], echo: Callable[[str], None] = print) -> int:
    for check in checks:
        echo(check.line())
    return 1 if any(c.verdict is Verdict.FAIL for c in checks) else 0
