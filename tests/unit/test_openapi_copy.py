"""The OpenAPI copy in docs/ is the API's own document."""

from __future__ import annotations

import json
from pathlib import Path

from callflow.api.document import document

COPY = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_docs_openapi_json_matches_the_api() -> None:
    assert json.loads(COPY.read_text()) == document(), (
        "docs/openapi.json is stale: .venv/bin/python -m callflow.api.document > docs/openapi.json"
    )
