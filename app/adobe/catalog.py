"""Catalog Service's datasets: what a dataflow writes to, read as the Catalog filter guide documents.

`GET /dataSets` with `limit`, `start`, `orderBy`, `properties` and a `property=name~…` condition ("Filter Catalog data
using query parameters"), and `GET /dataSets/{id}`.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote

from .errors import AdobeError
from .gateway import CATALOG, Gateway, json_body

# Datasets on one page of the chooser.
PAGE = 10
# Search text sent in a Catalog regular expression: letters, digits, spaces and a few marks, nothing the
# expression could read as an operator (our choice: the guide does not say which regex dialect Catalog reads).
SEARCHABLE = re.compile(r"^[A-Za-z0-9 _-]{1,64}$")


@dataclasses.dataclass(frozen=True)
class DatasetPage:
    items: list[dict]
    start: int
    more: bool


def name_pattern(text: str) -> str | None:
    """A Catalog `name~` expression that finds `text` in any case, or None for text that cannot be sent."""
    if not SEARCHABLE.match(text):
        return None
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


class Catalog:
    """Reads of Catalog's datasets, through the gateway."""

    def __init__(self, gateway: Gateway):
        self._client = gateway

    def page(self, sandbox: str, search: str = "", start: int = 0, limit: int = PAGE) -> DatasetPage:
        """Datasets by name, `limit` from `start`, those whose name holds `search` (any case) when given."""
        doing = "Listing datasets"
        params = [
            ("limit", str(limit + 1)),
            ("start", str(start)),
            ("orderBy", "asc:name"),
            ("properties", "name,description,schemaRef"),
        ]
        if search:
            pattern = name_pattern(search)
            if pattern is None:
                raise AdobeError("Search with letters, digits, spaces, _ and - only.", status=400)
            params.append(("property", f"name~{pattern}"))
        found = _datasets(
            json_body(self._client.call("GET", "/dataSets", sandbox, doing, service=CATALOG, params=params), doing),
            doing,
        )
        return DatasetPage(found[:limit], start, len(found) > limit)

    def dataset(self, sandbox: str, dataset_id: str) -> dict:
        doing = "Reading the dataset"
        found = _datasets(
            json_body(
                self._client.call(
                    "GET",
                    f"/dataSets/{quote(dataset_id, safe='')}",
                    sandbox,
                    doing,
                    service=CATALOG,
                    params=[("properties", "name,description,schemaRef")],
                ),
                doing,
            ),
            doing,
        )
        if not found:
            raise AdobeError(f"{doing} failed: Catalog has no dataset {dataset_id} in sandbox {sandbox}.", status=404)
        return found[0]


def _datasets(body, doing: str) -> list[dict]:
    """Catalog's answer, a map of id → dataset, as a list of datasets with their ids (in the answer's order)."""
    if not isinstance(body, dict) or not all(isinstance(v, dict) for v in body.values()):
        raise AdobeError(f"{doing} failed: Catalog answered with a body that is not its map of datasets. Try again.")
    return [{**value, "id": key} for key, value in body.items()]
