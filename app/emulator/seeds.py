"""The pretend organisation's data: its two XDM schemas, with their identity fields, and two datasets following them
in each sandbox.

Read by `state.py` (which seeds Catalog with the datasets), by `catalog.py`, `schema_registry.py` and `data_prep.py`.
"""

from __future__ import annotations

import hashlib
from typing import Any

TENANT = "emulatortenant"


def _field(kind: str, title: str, **extra) -> dict:
    return {"type": kind, "title": title, **extra}


# The emulator's two XDM schemas (full format), and the identity descriptors on their fields.
SCHEMAS: dict[str, dict[str, Any]] = {
    "loyaltymembers": {
        "title": "Loyalty members",
        "version": "1.2",
        "meta:class": "https://ns.adobe.com/xdm/context/profile",
        "behavior": "record",
        "properties": {
            "_id": _field("string", "Identifier"),
            "person": {
                "type": "object",
                "title": "Person",
                "properties": {
                    "name": {
                        "type": "object",
                        "title": "Full name",
                        "properties": {
                            "firstName": _field("string", "First name"),
                            "lastName": _field("string", "Last name"),
                        },
                    },
                    "birthDate": _field("string", "Birth date", format="date"),
                },
            },
            "personalEmail": {
                "type": "object",
                "title": "Personal email",
                "properties": {"address": _field("string", "Address", format="email")},
            },
            f"_{TENANT}": {
                "type": "object",
                "properties": {
                    "loyaltyId": _field("string", "Loyalty ID"),
                    "points": _field("integer", "Points"),
                    "joinedAt": _field("string", "Joined at", format="date-time"),
                },
            },
        },
        "identities": [("/_emulatortenant/loyaltyId", "LoyaltyId", True), ("/personalEmail/address", "Email", False)],
    },
    "weborders": {
        "title": "Web orders",
        "version": "1.0",
        "meta:class": "https://ns.adobe.com/xdm/context/experienceevent",
        "behavior": "time-series",
        "properties": {
            "_id": _field("string", "Identifier"),
            "timestamp": _field("string", "Timestamp", format="date-time"),
            "commerce": {
                "type": "object",
                "title": "Commerce",
                "properties": {
                    "order": {
                        "type": "object",
                        "title": "Order",
                        "properties": {
                            "priceTotal": _field("number", "Total price"),
                            "purchaseOrderNumber": _field("string", "Purchase order number"),
                        },
                    }
                },
            },
            f"_{TENANT}": {
                "type": "object",
                "properties": {
                    "orderId": _field("integer", "Order ID"),
                    "customerId": _field("integer", "Customer ID"),
                },
            },
        },
        "identities": [("/_emulatortenant/customerId", "CustomerId", True)],
    },
}


def schema_id(key: str) -> str:
    return f"https://ns.adobe.com/{TENANT}/schemas/{key}"


def seed_datasets(sandboxes, org_id: str) -> dict[str, dict]:
    """Two datasets in each sandbox, in Catalog's shape, each following one of the emulator's XDM schemas."""
    datasets = {}
    for sandbox in sorted(sandboxes):
        for number, (name, key) in enumerate((("Loyalty members", "loyaltymembers"), ("Web orders", "weborders"))):
            dataset_id = hashlib.sha1(f"{sandbox}/{name}".encode(), usedforsecurity=False).hexdigest()[:24]
            datasets[dataset_id] = {
                "id": dataset_id,
                "name": name,
                "description": f"{name}, loaded by the emulator's seed",
                "sandboxName": sandbox,
                "imsOrg": org_id,
                "version": "1.0.0",
                "created": 1700000000000 + number,
                "updated": 1700000000000 + number,
                "createdClient": "emulator",
                "createdUser": "emulator@AdobeID",
                "updatedUser": "emulator@AdobeID",
                "schemaRef": {"id": schema_id(key), "contentType": "application/vnd.adobe.xed-full+json;version=1"},
                "tags": {},
                "dule": {},
                "statsCache": {},
                # As Catalog's spec describes it (dataBehavior, e.g. "time-series"; managedBy CUSTOMER or SYSTEM):
                # the behaviour is the schema class's, record for a profile, time-series for an experience event.
                "classification": {"dataBehavior": SCHEMAS[key]["behavior"], "managedBy": "CUSTOMER"},
            }
    return datasets
