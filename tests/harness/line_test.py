"""One SIPp customer call to the local PBX's line test (scripts/line-test)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from callflow.localpbx.runner import LocalPbx
from tests.harness.db_rows import rows
from tests.harness.poll import PollTimeout, poll_until
from tests.harness.sipp import Sipp


async def main(digits: str) -> int:
    pbx = LocalPbx.open(os.environ.get("CALLFLOW_INSTANCE", "local"))
    db_url = os.environ["CALLFLOW_DB__URL"]

    def last_event() -> tuple[Any, ...] | None:
        found = rows(db_url, "SELECT kind, detail FROM event_log ORDER BY id DESC LIMIT 1")
        return found[0] if found else None

    before = last_event()
    with tempfile.TemporaryDirectory() as tmp:
        sipp = Sipp(pbx.config.sip_port, Path(tmp), base_port=27000)
        call = await sipp.start("customer_dtmf.xml", service="100", digits=digits + "#")
        code = await call.wait(40)
        if code != 0:
            print(f"SIPp call failed ({code}):\n{call.errors}")
            return 1
    try:
        event = await poll_until(
            lambda: (e := last_event()) != before and e,
            timeout=5,
            message="callflow's record of the call",
        )
    except PollTimeout:
        print("the call ended but callflow recorded nothing: is `callflow serve` running?")
        return 1
    assert event
    print(f"SIPp call to 100 completed; callflow recorded: {event[0]} {event[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "1234")))
