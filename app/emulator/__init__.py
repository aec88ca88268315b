"""A local stand-in for Adobe IMS and the Platform APIs the portal calls, speaking their wire format.

Laid out part for part like `app/adobe/`:
- `ims.py`: IMS's token endpoint.
- `gateway.py`: the API gateway's checks every Platform API runs first, and the small answers Flow Service's parts
  share; `listing.py` its lists (filters, order, pages, continuation tokens), `json_patch.py` its PATCH,
  `flow_objects.py` what every object it keeps shares (sandbox, audit fields, read and delete).
- Flow Service: `connections.py` (base connections, connection specs, explore), `source_target.py` (source and
  target connections), `flows.py` (flow specs, flows), `runs.py` (runs, and the schedule that makes them).
- `catalog.py`, `schema_registry.py`, `data_prep.py`: Catalog's datasets, the Schema Registry's schemas and
  descriptors, Data Prep's mapping sets.
- Adobe I/O Events: `events.py` (webhook registrations and their challenge, signed deliveries of each run's
  notification with I/O Events' retries, the public keys) and `notifications.py` (the Flow run notification payloads).
- `specs.py` and `flow_specs.py` the specs served, `seeds.py` the schemas and datasets the organisation starts with,
  `state.py` what the emulator remembers, `errors.py` Adobe's error shapes and catalogue, `faults.py` what tests
  make go wrong (and the `/_emulator` control endpoints), `server.py` all of it assembled into one HTTP server.

No module imports one that imports it back (tests/test_house.py checks): the route modules are handed the state,
and `state.py` imports only the specs, the seeds and `Fault`. docs/emulator.md is the table of every behaviour with
the document it follows.
"""

from .faults import Fault
from .server import Emulator

__all__ = ["Emulator", "Fault"]
