"""The Flow run notifications Experience Platform sends through Adobe I/O Events when a source dataflow's run ends:
`sources_flow_run_success` and `sources_flow_run_failure`, built from an emulator run in the shapes Adobe's guide
prints.

The guide is "Flow run notifications" (Experience League, `experience-platform/sources/notifications`). It prints the
success in an event envelope, `{"event_id", "event": {run fields, metrics, activities, header._adobeio.eventCode}}`,
and the failure in another, `[{"messages": [{"msgType": "eventNotification", …, "_eventNotificationMeta": {"type":
"sources_flow_run_failed"}, "value": {run fields}}]}]`. Both are built here: `failure_shape="messages"` (the guide's
print, the default) or `"event"` (the success's envelope with `eventCode` `sources_flow_run_failure`). A run that
succeeded with errors (partial ingestion under its threshold) is a success that carries its errors, as the guide says.
I/O Events adds `recipient_client_id`/`recipientclientid` and `eventid` beside `event_id` to an object payload
(I/O Events guide and FAQ). The figures of the activities are our choice; their shape is the guide's.

Pure functions of a run: `events.py` delivers what these build.
"""

from __future__ import annotations

import copy
import uuid

SUCCESS = "sources_flow_run_success"
FAILURE = "sources_flow_run_failure"
# The failure example's own type, in its `_eventNotificationMeta`.
FAILED_TYPE = "sources_flow_run_failed"
# The success example's `header._adobeio.providerMetadata` (the guide's newest copy; an older one printed
# "aep_observability_catalog_events").
PROVIDER_METADATA = "platform_notifications"
AUDIT = (
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "createdClient",
    "updatedClient",
    "sandboxId",
    "sandboxName",
    "imsOrgId",
)


def event_code(run: dict) -> str:
    """The notification a run's end is classified as: the guide's two codes, by the run's status."""
    return SUCCESS if run["metrics"]["statusSummary"]["status"] == "success" else FAILURE


def payload(
    run: dict, flow: dict, event_id: str, recipient: str, platform_url: str, failure_shape: str = "messages"
) -> object:
    """The JSON payload delivered for `run`'s end: the success envelope, or the failure in `failure_shape`."""
    code = event_code(run)
    fields = _run_fields(run, flow, platform_url)
    if code == FAILURE and failure_shape == "messages":
        return [
            {
                "messages": [
                    {
                        "msgType": "eventNotification",
                        "version": "1.0",
                        "timestamp": run["updatedAt"],
                        "imsOrgId": run["imsOrgId"],
                        "schema": {"name": "run-notification", "version": "1.0"},
                        "provider": "FlowService",
                        "_eventNotificationMeta": {"category": "Platform Notifications", "type": FAILED_TYPE},
                        "value": fields,
                    }
                ]
            }
        ]
    completed = run["metrics"]["durationSummary"]["completedAtUTC"]
    return {
        "event_id": event_id,
        "eventid": event_id,
        "recipient_client_id": recipient,
        "recipientclientid": recipient,
        "event": {
            **fields,
            "slaCreatedAt": completed + 364,
            "processStartTime": completed + 453,
            "header": {
                "_adobeio": {"imsOrgId": run["imsOrgId"], "providerMetadata": PROVIDER_METADATA, "eventCode": code}
            },
            "transformedTime": completed + 454,
        },
    }


def _run_fields(run: dict, flow: dict, platform_url: str) -> dict:
    """A run as both examples print it: its audit fields, ids, etag, metrics and activities."""
    metrics = copy.deepcopy(run["metrics"])
    status = metrics["statusSummary"]
    if not status.get("errors"):
        status.pop("errors", None)  # the success example prints `{"status": "success"}` alone
    records = metrics["recordSummary"]
    metrics["fileSummary"] = {"inputFileCount": 1, "outputFileCount": 1 if records["outputRecordCount"] else 0}
    return {
        **{key: run[key] for key in AUDIT},
        "id": run["id"],
        "flowId": run["flowId"],
        "etag": run["etag"],
        "metrics": metrics,
        "activities": _activities(run, flow, platform_url),
    }


def _activities(run: dict, flow: dict, platform_url: str) -> list[dict]:
    """The copy and promotion activities, as the guide's examples show them; the promotion carries the run's status,
    its errors and the manifest link of the batch it wrote (a Data Access path the emulator does not serve)."""
    metrics = run["metrics"]
    started = metrics["durationSummary"]["startedAtUTC"]
    completed = metrics["durationSummary"]["completedAtUTC"]
    copied = started + (completed - started) // 2
    records, sizes = metrics["recordSummary"], metrics["sizeSummary"]
    status = metrics["statusSummary"]
    batch = uuid.uuid5(uuid.NAMESPACE_URL, run["id"]).hex.upper()[:26]
    promotion_status = {
        "status": status["status"],
        **({"errors": status["errors"]} if status.get("errors") else {}),
        "extensions": {"batchId": batch},
    }
    return [
        {
            "id": "copyActivity",
            "updatedAtUTC": copied,
            "durationSummary": {"startedAtUTC": started, "completedAtUTC": copied},
            "sizeSummary": {"inputBytes": sizes["inputBytes"], "outputBytes": sizes["inputBytes"]},
            "recordSummary": {
                "inputRecordCount": records["inputRecordCount"],
                "outputRecordCount": records["inputRecordCount"],
            },
            "fileSummary": {"inputFileCount": 1, "outputFileCount": 1},
            "statusSummary": {"status": "success"},
            "sourceInfo": [
                {"id": source, "type": "SourceConnection", "reference": {"type": "AdfRunId"}}
                for source in flow.get("sourceConnectionIds", [])
            ],
        },
        {
            "id": "promotionActivity",
            "updatedAtUTC": completed,
            "durationSummary": {"startedAtUTC": copied, "completedAtUTC": completed},
            "sizeSummary": {"inputBytes": sizes["inputBytes"], "outputBytes": sizes["outputBytes"]},
            "recordSummary": {},
            "fileSummary": {
                "inputFileCount": 1,
                "outputFileCount": 1 if records["outputRecordCount"] else 0,
                "extensions": {
                    "manifest": {
                        "fileInfo": f"{platform_url}/data/foundation/export/batches/{batch}/meta?path=input_files"
                    }
                },
            },
            "statusSummary": promotion_status,
            "targetInfo": [
                {"id": target, "type": "TargetConnection", "reference": {"type": "Batch", "ids": [batch]}}
                for target in flow.get("targetConnectionIds", [])
            ],
        },
    ]
