"""Config as code through the API: plan a file against a sandbox (what applying would do, object by object), and
apply it (app/config_file/plan.py and apply.py), for `aep-source-wizard plan` and `apply` and any script with a
token. Planning needs a viewer; applying an editor, and an admin to prune."""

from __future__ import annotations

import logging

from flask import abort

from .. import services
from ..config_file import plan as planning
from ..config_file.apply import Applying, Busy, one_at_a_time
from ..config_file.load import Refused
from ..web import audit, permissions
from . import config_schemas as shapes
from . import schemas
from .problems import Problem
from .spec import operation

log = logging.getLogger(__name__)
TAG = "Config as code"
# A body holds the file (at most 2 MiB) and its secrets' values, JSON-escaped: more than the portal's usual 64 KB.
MOST_BODY = 3 * 1024 * 1024


def _plan(body: shapes.ConfigPlanRequest) -> planning.Plan:
    """The plan for the body's file, secrets registered for scrubbing first; a 422 naming each line at fault."""
    services.secrets().add_for_request(*(v for fields in body.secrets.values() for v in fields.values() if v))
    if body.sandbox not in services.settings().sandboxes:
        abort(404)
    try:
        return planning.make(body.file, body.sandbox, body.secrets, body.prune)
    except Refused as refused:
        raise Problem(
            422,
            "The file cannot be used",
            "Nothing was read from the sandbox; mend each line named, or check the file with aep-source-wizard check.",
            errors=[{"field": p.where, "message": p.message, "line": p.line} for p in refused.problems],
        ) from None


@operation(
    "POST",
    "/config/plan",
    summary="Plan a configuration file against a sandbox",
    tag=TAG,
    body=shapes.ConfigPlanRequest,
    most_bytes=MOST_BODY,
    answers={
        200: ("What applying the file would do, object by object; nothing is changed.", shapes.PlanAnswer),
        422: ("The file cannot be used: each problem with its line.", schemas.ProblemDetails),
    },
)
def plan_config(body: shapes.ConfigPlanRequest):
    """Compare the file with the sandbox: each connection and dataflow to create, update (each field, secrets
    masked), replace (and why), delete (with prune), or leave; what changed elsewhere since the last apply (drift);
    datasets matched by name. A secret changes the plan only when its reference or its value's fingerprint does."""
    if body.sandbox in services.settings().sandboxes:
        permissions.require("view", body.sandbox)
        if body.secrets and not permissions.may("edit", body.sandbox):
            # Comparing a value's fingerprint would tell a viewer whether a guess is the password applied.
            raise Problem(
                403,
                "Secrets' values are for editors",
                "Plan without `secrets`: a viewer's plan shows every change but a secret's new value.",
            )
    plan = _plan(body)
    audit.record("plan", "ok", sandbox=body.sandbox, detail=plan.said())
    return shapes.PlanAnswer.model_validate(plan.as_json()).model_dump(mode="json")


@operation(
    "POST",
    "/config/apply",
    summary="Apply a configuration file to a sandbox",
    tag=TAG,
    body=shapes.ConfigApplyRequest,
    most_bytes=MOST_BODY,
    answers={
        200: ("What was done, object by object (`complete` false: apply again to go on).", shapes.ApplyAnswer),
        409: ("Another apply to the sandbox is under way, or the saved plan no longer holds.", schemas.ProblemDetails),
        422: ("The file cannot be used, or the plan has problems: nothing was changed.", schemas.ProblemDetails),
    },
)
def apply_config(body: shapes.ConfigApplyRequest):
    """Do what the plan says, in Flow Service's order, each object exactly once through the same commands as the
    pages; a stop midway is resumed by applying again. With plan_digest, refused when the plan made now differs."""
    if body.sandbox in services.settings().sandboxes:
        permissions.require("edit", body.sandbox)
        if body.prune:
            permissions.require("delete", body.sandbox)
    try:
        with one_at_a_time(body.sandbox) as renew:
            plan = _plan(body)
            if body.plan_digest and body.plan_digest != plan.digest:
                raise Problem(
                    409,
                    "The plan no longer holds",
                    "The sandbox or the file changed since the plan was saved, so applying would do something else: "
                    "plan again, read it, then apply that plan.",
                    extra={"digest": plan.digest},
                )
            if plan.deletes_connections:
                permissions.require("delete", body.sandbox)
            if plan.blocked:
                raise Problem(
                    422,
                    "The plan has problems",
                    "Nothing was changed: mend each problem, then plan again.",
                    errors=[
                        {"field": p.where, "message": p.message, "line": p.line}
                        for change in plan.changes
                        for p in change.problems
                    ],
                )
            results = Applying(plan, body.secrets, renew).run()
    except Busy:
        raise Problem(
            409,
            "An apply is under way",
            f"Another apply to {body.sandbox} is under way; apply again when it ends (its plan shows what is left).",
            headers={"Retry-After": "5"},
        ) from None
    complete = all(r.outcome in ("done", "skipped") for r in results)
    said = ", ".join(f"{r.kind} {r.name}: {r.action} {r.outcome}" for r in results if r.outcome != "skipped")
    audit.record("apply", "ok" if complete else "failed", sandbox=body.sandbox, detail=said[:500] or "no change")
    log.info("applied a file to sandbox %s: %s", body.sandbox, plan.said())
    answer = {
        "plan": plan.as_json(),
        "results": [r.as_json() for r in results],
        "complete": complete,
    }
    return shapes.ApplyAnswer.model_validate(answer).model_dump(mode="json")
