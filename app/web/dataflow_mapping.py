"""The mapping part of changing a dataflow (app/web/dataflow_edit.py): what the change page shows of the mapping the
dataflow uses, the checks of what the person typed (a new dataflow's mapping rules, then Data Prep's verdict beside
each field, as the mapping step asks it), and the mapping set's next version, found again or made, before the flow's
PATCH names it. What a mapping change is, and the requests' shapes, are app/dataflows/remap.py's."""

from __future__ import annotations

import dataclasses
import logging

from .. import services
from ..adobe import AdobeError
from ..adobe.data_prep import mapping_set
from ..adobe.gateway import DATA_PREP
from ..dataflows import mapping as rules
from ..dataflows import remap
from ..dataflows.forms import change_form_class
from ..sources.fields import add_error

log = logging.getLogger(__name__)

UNSHOWN_ROWS = (
    "This form cannot hold every row of the dataflow's mapping (an expression, a column filling two "
    "fields, more than three constants, or a field the schema lacks), so the mapping is shown as it is, "
    "and it can be changed in Experience Platform."
)


@dataclasses.dataclass(frozen=True)
class Shown:
    """What the change page knows of the dataflow's mapping: the mapping it uses (None without a Mapping
    transformation, or when it could not be read), and why it cannot be changed here, when it cannot."""

    current: remap.Current | None = None
    problem: str | None = None
    # Adobe could not say just now (a mapping typed on the page is then never dropped silently).
    failed: bool = False

    @property
    def editable(self) -> bool:
        return self.current is not None and self.current.data is not None

    def form_class(self):
        return change_form_class(self.current.draft if self.editable and self.current else None)

    def asked(self, form) -> list[remap.Row] | None:
        """The rows the form asks for; None when the mapping is not changed here (or a column has no name Data
        Prep reads, which the checks say beside its field)."""
        return remap.wanted(form, self.current) if self.editable and self.current else None

    def changed(self, rows: list[remap.Row] | None) -> bool:
        return self.editable and not remap.same(rows, self.current.rows if self.current else None)


def remapper() -> remap.Remapper:
    return remap.Remapper(
        services.dataflows(), services.data_prep(), services.schema_registry(), services.connections()
    )


def read(flow: dict, sandbox: str) -> Shown:
    """The mapping the dataflow uses, as the page shows it; never raises for what Adobe says."""
    try:
        current = remapper().current(sandbox, flow)
    except remap.Unshown as unshown:
        return Shown(problem=unshown.message)
    except AdobeError as error:
        log.warning("mapping of dataflow %s not read: %s", flow.get("id"), error.code)
        return Shown(
            problem=f"The dataflow's mapping could not be read, so it cannot be changed just now: {error.message}",
            failed=True,
        )
    if current is not None and current.data is None:
        return Shown(current=current, problem=UNSHOWN_ROWS)
    return Shown(current=current)


def data_prep_verdicts(form, shown: Shown, rows: list[remap.Row], sandbox: str) -> dict:
    """Data Prep's verdict on each row (`POST /mappingSets/validate`, as the mapping step asks it), a refusal put
    beside its field; the verdicts by field id. Raises AdobeError when Data Prep could not say."""
    current = shown.current
    assert current is not None
    answers = services.data_prep().validate(sandbox, mapping_set("validation", current.schema_id, rows))
    verdicts = {}
    for field, answer in zip(rules.row_fields(form, current.draft.plan), answers, strict=False):
        verdicts[field.id] = answer
        if not answer.ok:
            add_error(field, f"Data Prep refused this: {answer.message or 'no reason given'}.")
    return verdicts


def put_curl(shown: Shown, rows: list[remap.Row], sandbox: str) -> str:
    """The PUT that makes the set's next version, as curl."""
    current = shown.current
    assert current is not None
    return services.gateway().curl(
        "PUT", f"/mappingSets/{current.set_id}", sandbox, remap.body(current, rows), DATA_PREP
    )


def reusable(shown: Shown, rows: list[remap.Row], sandbox: str) -> int | None:
    """A newer version of the set already holding `rows` (made by a send whose PATCH failed), or None."""
    assert shown.current is not None
    return remapper().reusable(sandbox, shown.current, rows)


def version_for(shown: Shown, rows: list[remap.Row], sandbox: str) -> tuple[int, bool]:
    """The version of the set holding `rows` for the PATCH to name: one found again, else one made now; with whether
    it was made now. Raises AdobeError."""
    current = shown.current
    assert current is not None
    found = remapper().reusable(sandbox, current, rows)
    if found is not None:
        log.info("mapping set %s version %d reused for dataflow change", current.set_id, found)
        return found, False
    made = remapper().make_version(sandbox, current, rows)
    log.info("mapping set %s version %d made", current.set_id, made.version)
    return made.version, True


def not_pointed(shown: Shown, version: int) -> str:
    """What a PATCH that failed after the version was there leaves, and what to do."""
    current = shown.current
    assert current is not None
    return (
        f"Data Prep holds your mapping as version {version} of mapping set {current.set_id}, but the dataflow "
        f"still uses version {current.version}: Flow Service did not take the change. Send the change again to "
        f"point the dataflow at version {version}; no other version is made."
    )
