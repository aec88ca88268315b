"""Read the request-body shapes out of Adobe's tutorials in tests/fixtures/adobe/seeds/ (see its README).

The tutorials' JSON has typos (unterminated strings, unquoted placeholders), so
rather than parse it as JSON we read what the test needs: specName, the params
keys with whether each value is quoted, the connection spec id and version.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "adobe" / "seeds"

_EXAMPLE = re.compile(
    r'"specName"\s*:\s*"(?P<spec>[^"]+)"\s*,\s*"params"\s*:\s*\{(?P<params>.*?)\}\s*\}\s*,\s*'
    r'"connectionSpec"\s*:\s*\{\s*"id"\s*:\s*"(?P<id>[0-9a-f-]{36})"\s*,\s*"version"\s*:\s*"(?P<version>[^"]+)"',
    re.S,
)
_PARAM = re.compile(r'"(?P<key>\w+)"\s*:\s*(?P<value>"[^"\n]*"?|\{\w+\}|\w+)')


def seed_examples(name_fragment: str) -> list[dict[str, Any]]:
    """Every create-connection example in the seed whose title contains `name_fragment`."""
    examples: list[dict[str, Any]] = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = re.search(r"^title:\s*(.+)$", text, re.M)
        assert title, f"{path.name} has no title line"
        if name_fragment.lower() not in title.group(1).lower():
            continue
        for match in _EXAMPLE.finditer(text):
            params: dict[str, str | None] = {}
            for param in _PARAM.finditer(match["params"]):
                params[param["key"]] = param["value"].strip('"') if param["value"].startswith('"') else None
            examples.append(
                {
                    "file": path.name,
                    "specName": match["spec"],
                    "params": params,
                    "id": match["id"],
                    "version": match["version"],
                }
            )
    return examples
