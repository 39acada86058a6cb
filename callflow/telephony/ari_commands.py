"""The telephony port's commands on ARI: each one operation through ``request``.

``AriClient`` supplies ``request`` (HTTP, or the event socket for the
offer's originate) and ``app``; a 404 on a hang-up or a destroy is an answer
(already gone), not an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from callflow.telephony.ami_recorder import AmiRecorder
from callflow.telephony.port import NotFound, TelephonyError


class AriCommands:
    app: str
    request: Callable[..., Awaitable[Any]]  # (resource, operation, **params) -> JSON
    recorder: AmiRecorder  # a call's recording runs through the server's AMI

    async def answer(self, channel_id: str) -> None:
        await self.request("channels", "answer", channelId=channel_id)

    async def _unless_gone(self, resource: str, operation: str, **params: Any) -> bool:
        """Run a removal; False when its object was gone already (404)."""
        try:
            await self.request(resource, operation, **params)
        except NotFound:
            return False
        return True

    async def hangup(self, channel_id: str, reason: str = "normal") -> bool:
        return await self._unless_gone("channels", "hangup", channelId=channel_id, reason=reason)

    async def originate(
        self,
        channel_id: str,
        endpoint: str,
        args: list[str],
        *,
        caller_id: str | None = None,
        timeout: int = 30,
        near: str | None = None,  # one server: every channel is near
    ) -> None:
        await self.request(
            "channels", "originateWithId", channelId=channel_id, endpoint=endpoint,
            app=self.app, appArgs=",".join(args), callerId=caller_id or None, timeout=timeout,
        )  # fmt: skip

    async def continue_in_dialplan(
        self, channel_id: str, context: str | None = None, exten: str | None = None,
        priority: int | str | None = None,
    ) -> None:  # fmt: skip
        number = priority if isinstance(priority, int) else None
        label = priority if isinstance(priority, str) else None
        await self.request(
            "channels", "continueInDialplan", channelId=channel_id, context=context,
            extension=exten, priority=number, label=label,
        )  # fmt: skip

    async def set_var(self, channel_id: str, name: str, value: str) -> None:
        await self.request(
            "channels", "setChannelVar", channelId=channel_id, variable=name, value=value
        )

    async def create_bridge(self, bridge_id: str, kind: str, name: str = "") -> None:
        """A bridge that exists already is kept. Asterisk refuses to create it
        again (22: 409; 16 takes it as an update and refuses the type: 500),
        so a refusal is looked at only when it comes: the bridge is there."""
        try:
            await self.request(
                "bridges", "createWithId", bridgeId=bridge_id, type=kind, name=name or None
            )
        except TelephonyError as refused:
            try:
                await self.request("bridges", "get", bridgeId=bridge_id)
            except TelephonyError:
                raise refused from None

    async def destroy_bridge(self, bridge_id: str) -> bool:
        return await self._unless_gone("bridges", "destroy", bridgeId=bridge_id)

    async def add_to_bridge(
        self, bridge_id: str, channel_id: str, *, absorb_dtmf: bool = False
    ) -> None:
        await self.request(
            "bridges", "addChannel", bridgeId=bridge_id, channel=channel_id,
            absorbDTMF=True if absorb_dtmf else None,
        )  # fmt: skip

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("bridges", "removeChannel", bridgeId=bridge_id, channel=channel_id)

    async def snoop(
        self, channel_id: str, snoop_id: str, *, spy: str, whisper: str, args: list[str]
    ) -> None:
        await self.request(
            "channels", "snoopChannelWithId", channelId=channel_id, snoopId=snoop_id,
            spy=spy, whisper=whisper, app=self.app, appArgs=",".join(args),
        )  # fmt: skip

    async def bridge_moh(self, bridge_id: str, moh_class: str) -> None:
        await self.request("bridges", "startMoh", bridgeId=bridge_id, mohClass=moh_class)

    async def start_moh(self, channel_id: str, moh_class: str) -> None:
        await self.request("channels", "startMoh", channelId=channel_id, mohClass=moh_class)

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("channels", "stopMoh", channelId=channel_id)

    async def play(self, channel_id: str, media: list[str], playback_id: str | None = None) -> None:
        await self.request(
            "channels", "play", channelId=channel_id, media=media, playbackId=playback_id
        )

    async def stop_playback(self, playback_id: str) -> bool:
        return await self._unless_gone("playbacks", "stop", playbackId=playback_id)

    async def channel_name(self, channel_id: str) -> str:
        found = await self.request("channels", "get", channelId=channel_id)
        return str(found["name"])

    async def record_call(
        self, channel_id: str, name: str, *, said: str | None = None, heard: str | None = None
    ) -> None:
        await self.recorder.start(channel_id, name, said=said, heard=heard)

    async def mute_call_recording(self, channel_id: str, muted: bool) -> None:
        await self.recorder.mute(channel_id, muted)

    async def stop_call_recording(self, channel_id: str) -> bool:
        return await self.recorder.stop(channel_id)

    async def send_message(self, endpoint: str, sender: str, body: str) -> None:
        tech, resource = endpoint.split("/", 1)
        text: dict[str, Any] = {"from": sender, "body": body}  # "from" is a keyword
        await self.request(
            "endpoints", "sendMessageToEndpoint", tech=tech, resource=resource, **text
        )

    async def configure(self, kind: str, name: str, fields: dict[str, str]) -> None:
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        await self.request(
            "asterisk", "updateObject", json_body=body,
            configClass="res_pjsip", objectType=kind, id=name,
        )  # fmt: skip

    async def unconfigure(self, kind: str, name: str) -> bool:
        return await self._unless_gone(
            "asterisk", "deleteObject", configClass="res_pjsip", objectType=kind, id=name
        )

    async def endpoints(self) -> dict[str, bool]:
        found = await self.request("endpoints", "listByTech", tech="PJSIP")
        return {f"PJSIP/{e['resource']}": e.get("state") == "online" for e in found}
