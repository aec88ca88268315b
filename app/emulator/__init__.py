"""A local stand-in for Adobe IMS and Flow Service, speaking their wire format.

Laid out like `app/adobe/`: `ims.py`, `flow_service.py` (base connections) and
`dataflows.py` (source and target connections, flow specs, flows, runs) answer as
those services do, `errors.py` holds Adobe's error shapes and catalogue,
`specs.py` the connection and flow specs, `state.py` what they remember, and
`faults.py` what tests make go wrong. docs/emulator.md is the table of every
behaviour with the document it follows.
"""

from .faults import Fault
from .server import Emulator

__all__ = ["Emulator", "Fault"]
