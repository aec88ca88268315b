"""Data Prep's mapping sets: Adobe's verdict on a mapping before anything is made, then the mapping set itself.

Bodies are in the Data Prep API's shape (`outputSchema.schemaRef`, `mappings[].sourceType`, `source`,
`destination`): `POST /mappingSets/validate` answers one verdict per mapping, `POST /mappingSets` the new set's id,
`GET /mappingSets/{id}?version=N` one version of a set, and `PUT /mappingSets/{id}` ("Update a mapping set") the
set's next version, which a dataflow is then patched to use ("Update dataflows").
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote

from .errors import UNANSWERED, AdobeError
from .gateway import DATA_PREP, Gateway, json_body

# Data Prep's reserved keywords, and its mapping functions, which "Data Prep mapping functions" (Experience League,
# data-prep/functions, "Fields") counts among them: a source field so named must be wrapped as ${...}.
RESERVED = frozenset(
    """
new mod or break var lt for false while eq gt div not null continue else and ne true le if ge return _errors do
function empty size
concat explode instr replacestr substr lower lcase upper ucase split join lpad rpad left right ltrim rtrim trim equals
equalsIgnoreCase extract_regex matches_regex sha1 sha256 sha512 md5 crc32 get_url_protocol get_url_host get_url_port
get_url_path get_url_query_str now timestamp format dformat date date_part set_date_part make_date_time
make_timestamp zone_date_to_utc zone_date_to_zone size_of is_empty arrays_to_object to_object str_to_object
contains_key is_set nullify get_keys get_values coalesce first last add_to_array join_arrays to_array decode iif min
max to_bigint to_decimal to_float to_integer json_to_object uuid guid ua_os_name ua_os_version_major ua_os_version
ua_os_name_version ua_agent_version ua_agent_version_major ua_agent_name ua_device_class
""".split()
)
# "A field name can be any legal identifier - an unlimited-length sequence of Unicode letters and digits, beginning
# with a letter, the dollar sign ($), or the underscore character (_)."
LEGAL_NAME = re.compile(r"(?:[^\W\d]|\$)\w*")


def source_field(column: str) -> str | None:
    """How a mapping names a table's column as its source: as it is when it is a legal identifier that is not reserved,
    else wrapped as `${...}` with each dot escaped (`order.id` → `${order\\.id}`: a dot otherwise reads as a step into
    an object), as the Data Prep guides ("Mapping functions", "Escaping special characters") write it. None when no
    document says how to write it (a name holding `{`, `}` or a backslash)."""
    if LEGAL_NAME.fullmatch(column) and column not in RESERVED:
        return column
    if not column or any(c in column for c in "{}\\"):
        return None
    return "${" + column.replace(".", "\\.") + "}"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Data Prep's word on one mapping: ok, or why not."""

    ok: bool
    message: str | None = None


@dataclasses.dataclass(frozen=True)
class Made:
    """An object a POST made: its id and Adobe's request id."""

    id: str
    request_id: str | None


@dataclasses.dataclass(frozen=True)
class Version:
    """The version of a mapping set a PUT made, and Adobe's request id."""

    version: int
    request_id: str | None


def mapping_set(name: str, schema_id: str, mappings: list[tuple[str, str, str]]) -> dict:
    """The body of a mapping set: `mappings` are (sourceType, source, destination) triples."""
    return {
        "name": name,
        "outputSchema": {
            "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}
        },
        "mappings": [
            {"sourceType": kind, "source": source, "destination": destination} for kind, source, destination in mappings
        ],
    }


def rows_of(item: dict) -> list[tuple[str, str, str]] | None:
    """A mapping set's mappings as (sourceType, source, destination) triples, the way `mapping_set` takes them; None
    when one is not in that shape (no mappings at all, or a mapping without its three strings)."""
    mappings = item.get("mappings") if isinstance(item, dict) else None
    if not isinstance(mappings, list) or not mappings:
        return None
    rows = []
    for mapping in mappings:
        kind, source, destination = (
            mapping.get(key) if isinstance(mapping, dict) else None for key in ("sourceType", "source", "destination")
        )
        if not (
            isinstance(kind, str)
            and isinstance(source, str)
            and isinstance(destination, str)
            and kind
            and source
            and destination
        ):
            return None
        rows.append((kind, source, destination))
    return rows


class DataPrep:
    def __init__(self, gateway: Gateway):
        self._client = gateway

    def validate(self, sandbox: str, body: dict) -> list[Verdict]:
        """One verdict per mapping of `body`, in order."""
        doing = "Checking the mapping with Data Prep"
        answer = json_body(
            self._client.call("POST", "/mappingSets/validate", sandbox, doing, service=DATA_PREP, json=body), doing
        )
        verdicts = answer.get("validationResponse") if isinstance(answer, dict) else None
        if not isinstance(verdicts, list) or len(verdicts) != len(body["mappings"]):
            raise AdobeError(f"{doing} failed: Data Prep answered without a verdict for each mapping. Try again.")
        found = []
        for verdict in verdicts:
            verdict = verdict if isinstance(verdict, dict) else {}
            errors = [e for e in verdict.get("errors") or [] if isinstance(e, dict)]
            reasons = [str(e.get("exception") or e.get("message") or "") for e in errors]
            found.append(Verdict(verdict.get("status") == "SUCCESS", "; ".join(r for r in reasons if r) or None))
        return found

    def create(self, sandbox: str, body: dict) -> Made:
        doing = "Creating the mapping set"
        response = self._client.call(
            "POST", "/mappingSets", sandbox, doing, ok=(200, 201), service=DATA_PREP, json=body
        )
        answer = json_body(response, doing)
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str) or not answer["id"]:
            raise AdobeError(f"{doing}: Data Prep answered without the mapping set's id.", code=UNANSWERED)
        return Made(answer["id"], response.headers.get("x-request-id"))

    def find(self, sandbox: str, name: str) -> str | None:
        """The id of the newest mapping set named exactly `name`, or None."""
        doing = "Looking for the mapping set"
        answer = json_body(
            self._client.call(
                "GET",
                "/mappingSets",
                sandbox,
                doing,
                service=DATA_PREP,
                params=[("limit", "10"), ("start", "0"), ("name", name)],
            ),
            doing,
        )
        items = answer.get("data") if isinstance(answer, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("id"), str):
                return item["id"]
        return None

    def mapping_set_of(self, sandbox: str, set_id: str, version: int | None = None) -> dict:
        """`GET /mappingSets/{id}`: the set at `version` (the spec's `?version=N`; without it, the spec's default);
        AdobeError with status 404 when Data Prep has no such set or version."""
        doing = "Reading the dataflow's mapping set"
        params = [("version", str(version))] if version is not None else []
        answer = json_body(
            self._client.call(
                "GET", f"/mappingSets/{quote(set_id, safe='')}", sandbox, doing, service=DATA_PREP, params=params
            ),
            doing,
        )
        if not isinstance(answer, dict):
            raise AdobeError(f"{doing} failed: Data Prep answered without the mapping set. Try again.")
        return answer

    def update(self, sandbox: str, set_id: str, body: dict) -> Version:
        """`PUT /mappingSets/{id}` (the spec's "Update a mapping set"): the set's next version; the ones before it
        stay. Never retried (app/adobe/http.py retries GET and DELETE only): an answer lost may have made the
        version, so a caller reads the versions after its own for one holding what it wants before sending another."""
        doing = "Making the mapping set's new version"
        response = self._client.call(
            "PUT", f"/mappingSets/{quote(set_id, safe='')}", sandbox, doing, service=DATA_PREP, json=body
        )
        answer = json_body(response, doing)
        version = answer.get("version") if isinstance(answer, dict) else None
        if not isinstance(version, int) or isinstance(version, bool):
            raise AdobeError(f"{doing}: Data Prep answered without the new version's number.", code=UNANSWERED)
        return Version(version, response.headers.get("x-request-id"))
