"""The MCP Bundle manifest JSON schemas (tests/fixtures/mcpb/) as a checker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "mcpb"


def schema_errors(document: dict[str, Any]) -> list[str]:
    """What the schema of the document's ``manifest_version`` says is wrong (formats too)."""
    version = document["manifest_version"]
    schema = json.loads((SCHEMAS / f"mcpb-manifest-v{version}.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
