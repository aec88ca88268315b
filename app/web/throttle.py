"""How many failures an address and a name may have before each further try must wait: sign-ins (app/web/auth.py)
and API calls with a wrong token (app/api/access.py) count in the same throttle, kept in the store
(app/store/sessions.py)."""

from __future__ import annotations

# Failed sign-ins allowed before each further try must wait: for a name at one address, and from one address
# whatever the names (more, as a team may sit behind one address). Kept in the store, shared by every worker
# and replica; someone else's failures, from elsewhere, never lock a person out.
FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = 15 * 60
MAX_WAIT = 300
