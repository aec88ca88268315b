"""What the tests share, one module per concern; tests/conftest.py holds the fixtures only.

- `live`: the settings a test's wizard starts with (`settings_for`: on the emulator, short timeouts, no retry waits,
  its store in a scratch folder pytest removes) and the wizard on a real loopback port (`LiveServer`).
- `markup`: what a page's HTML carries (the CSRF token, the submission id, a field's error).
- `forms`: valid form data for every source and variant; `pasted`: awkward values and pasted connection strings.
- `dataflows`: dataflows made in the emulator over HTTP (`Maker`), and the steps of creating one over HTTP (`Walk`).
- `browser`: Chromium's path and arguments, and axe's verdict; `pages`: page objects for Chromium
  (`DataflowWalkPage`, from a table to a created dataflow and on to its deletion).
- `servers`: the wizard as a real process (gunicorn through `aep-source-wizard`) on a free port.
- `oidc_provider`, `certified_provider`: OpenID providers on loopback (our own, and panva's oidc-provider on Node.js).
- `openapi_check`: every exchange with Adobe checked against Adobe's specs; `seeds`: the shapes in Adobe's tutorials.
- `tcp_proxy`: a TCP proxy that can cut or refuse connections (the store's PostgreSQL going away).
"""
