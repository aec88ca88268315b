"""A local stand-in for Adobe IMS and Flow Service, speaking their wire format.

Laid out like `app/adobe/`: `ims.py` and `flow_service.py` answer as those
services do, `errors.py` holds Adobe's error shapes and catalogue, `state.py`
what they remember, `faults.py` what tests make go wrong, and `behaviours.py`
the table of every behaviour with the document it follows (docs/emulator.md).
"""

from .faults import Fault
from .server import Emulator

__all__ = ["Emulator", "Fault"]
