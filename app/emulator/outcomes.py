"""How an emulated flow run can end (`POST /_emulator/runs` queues them): its status, records read and written, and
errors, in the shapes and codes of Adobe's monitoring tutorial and flow run notifications guide."""

from __future__ import annotations

# What each outcome's run reports (our choice of figures; the shape and codes are the monitoring tutorial's).
OUTCOMES = {
    "success": ("success", 100, 100, []),
    "partial": (
        "success",
        100,
        97,
        [
            {
                "code": "INGEST-1212-400",
                "message": "Encountered 3 errors in the data. "
                "Successfully ingested 97 rows. Review the associated diagnostic files for "
                "additional details.",
            },
            {"code": "MAPPER-3700-400", "recordCount": 3, "message": "Mapper Transform Error"},
        ],
    ),
    "failed": ("failed", 100, 0, [{"code": "CONNECTOR-2001-500", "message": "Error occurred at promotion activity."}]),
    # Failed while copying from the source (the flow run notifications guide's CONNECTOR-1001-500, "An error occurred
    # while data is being copied from a source"), as a database that refuses the credentials fails a run.
    "copy-failed": (
        "failed",
        0,
        0,
        [{"code": "CONNECTOR-1001-500", "message": "An error occurred while data is being copied from a source."}],
    ),
}
