"""The flow specs the emulator serves: the CRMToAEP flow spec, which takes a table-based source into the data lake, as
Adobe's table-source tutorial prints it. Flows are checked against its connection specs, transformationSpecs,
scheduleSpec and optionSpec (`flows.py`), ad hoc runs against its runSpec (`runs.py`)."""

from __future__ import annotations

from typing import Any

from .specs import DATA_LAKE_SPEC_ID

# The flow spec that takes a table-based source (databases, CRMs, marketing automation) into the data lake, as
# Adobe's current table-source tutorial "Create a dataflow to ingest data from a source" prints it
# (`GET /flowSpecs?property=name=="CRMToAEP"`, sources/tutorials/api/collect/table-dataflow-template, and the CRM
# tutorial built on it), but for permissionsInfo: its list of sources no longer holds Apache Phoenix
# (102706fb-…) and now holds Azure Databricks; it names `transformationSpecs` where the older database tutorial
# said `transformationSpec`. tests/fixtures/adobe/crm-to-aep-flow-spec.json is the tutorial's block, which a test
# compares.
FLOW_SPECS: dict[str, dict[str, Any]] = {
    "14518937-270c-4525-bdec-c2ba7cce3860": {
        "id": "14518937-270c-4525-bdec-c2ba7cce3860",
        "name": "CRMToAEP",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {
            "recordTypeEnabled": True,
            "defaultRecordType": "profile",
            "isSourceFlow": True,
            "flacValidationSupported": True,
            "isDraftModeSupported": True,
            "frequency": "batch",
            "notification": {"category": "sources", "flowRun": {"enabled": True}},
        },
        "sourceConnectionSpecIds": [
            "3416976c-a9ca-4bba-901a-1f08f66978ff",
            "38ad80fe-8b06-4938-94f4-d4ee80266b07",
            "d771e9c1-4f26-40dc-8617-ce58c4b53702",
            "3c9b37f8-13a6-43d8-bad3-b863b941fedd",
            "cc6a4487-9e91-433e-a3a3-9cf6626c1806",
            "3000eb99-cd47-43f3-827c-43caf170f015",
            "26d738e0-8963-47ea-aadf-c60de735468a",
            "74a1c565-4e59-48d7-9d67-7c03b8a13137",
            "cfc0fee1-7dc0-40ef-b73e-d8b134c436f5",
            "4f63aa36-bd48-4e33-bb83-49fbcd11c708",
            "cb66ab34-8619-49cb-96d1-39b37ede86ea",
            "eb13cb25-47ab-407f-ba89-c0125281c563",
            "1f372ff9-38a4-4492-96f5-b9a4e4bd00ec",
            "37b6bf40-d318-4655-90be-5cd6f65d334b",
            "a49bcc7d-8038-43af-b1e4-5a7a089a7d79",
            "a8b6a1a4-5735-42b4-952c-85dce0ac38b5",
            "6a8d82bc-1caf-45d1-908d-cadabc9d63a6",
            "aac9bbd4-6c01-46ce-b47e-51c6f0f6db3f",
            "8e6b41a8-d998-4545-ad7d-c6a9fff406c3",
            "ecde33f2-c56f-46cc-bdea-ad151c16cd69",
            "09182899-b429-40c9-a15a-bf3ddbc8ced7",
            "0479cc14-7651-4354-b233-7480606c2ac3",
            "d6b52d86-f0f8-475f-89d4-ce54c8527328",
            "a8f4d393-1a6b-43f3-931f-91a16ed857f4",
            "fcad62f3-09b0-41d3-be11-449d5a621b69",
            "ea1c2a08-b722-11eb-8529-0242ac130003",
            "35d6c4d8-c9a9-11eb-b8bc-0242ac130003",
            "b2e08744-4f1a-40ce-af30-7abac3e23cf3",
            "2acf109f-9b66-4d5e-bc18-ebb2adcff8d5",
            "2fa8af9c-2d1a-43ea-a253-f00a00c74412",
            "e9d7ec6b-0873-4e57-ad21-b3a7c65e310b",
        ],
        "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
        "optionSpec": {
            "name": "OptionSpec",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "errorDiagnosticsEnabled": {
                        "title": "Error diagnostics.",
                        "description": "Flag to enable detailed and sample error diagnostics summary.",
                        "type": "boolean",
                        "default": False,
                    },
                    "partialIngestionPercent": {
                        "title": "Partial ingestion threshold.",
                        "description": "Percentage "
                        "which defines the threshold of errors allowed before the run is "
                        "marked as failed.",
                        "type": "number",
                        "exclusiveMinimum": 0,
                    },
                },
            },
        },
        "scheduleSpec": {
            "name": "PeriodicSchedule",
            "type": "Periodic",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "startTime": {"description": "epoch time", "type": "integer"},
                    "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
                    "interval": {"type": "integer"},
                    "backfill": {"type": "boolean", "default": True},
                },
                "required": ["startTime", "frequency"],
                "if": {"properties": {"frequency": {"const": "once"}}},
                "then": {"allOf": [{"not": {"required": ["interval"]}}, {"not": {"required": ["backfill"]}}]},
                "else": {
                    "required": ["interval"],
                    "if": {"properties": {"frequency": {"const": "minute"}}},
                    "then": {"properties": {"interval": {"minimum": 15}}},
                    "else": {"properties": {"interval": {"minimum": 1}}},
                },
            },
        },
        "transformationSpecs": [
            {
                "name": "Copy",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {
                        "deltaColumn": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "dateFormat": {"type": "string"},
                                "timezone": {"type": "string"},
                            },
                            "required": ["name"],
                        }
                    },
                    "required": ["deltaColumn"],
                },
            },
            {
                "name": "Mapping",
                "spec": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "description": "defines various params required for different mapping from source to target",
                    "properties": {"mappingId": {"type": "string"}, "mappingVersion": {"type": "string"}},
                },
            },
        ],
        "runSpec": {
            "name": "ProviderParams",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "description": "defines various params required for creating flow run.",
                "properties": {
                    "startTime": {
                        "type": "integer",
                        "description": "An integer that defines the start time of the run. "
                        "The value is represented in Unix epoch time.",
                    },
                    "windowStartTime": {
                        "type": "integer",
                        "description": "An integer that defines the start time of the "
                        "window against which data is to be pulled. The value is represented in Unix "
                        "epoch time.",
                    },
                    "windowEndTime": {
                        "type": "integer",
                        "description": "An integer that defines the end time of the "
                        "window against which data is to be pulled. The value is represented in Unix epoch "
                        "time.",
                    },
                    "deltaColumn": {
                        "type": "object",
                        "description": "The delta column is required to partition the data "
                        "and separate newly ingested data from historic data.",
                        "properties": {
                            "name": {"type": "string"},
                            "dateFormat": {"type": "string"},
                            "timezone": {"type": "string"},
                        },
                        "required": ["name"],
                    },
                },
                "required": ["startTime", "windowStartTime", "windowEndTime", "deltaColumn"],
            },
        },
    },
}
