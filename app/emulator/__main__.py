"""Run the emulator on its own:
python -m app.emulator --port 8400 [--client-secret S] [--cloud aws] [--sandboxes prod,dev].

For benchmarks and manual tests that want Flow Service in a process of its own.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import Emulator


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-secret", default=None)
    parser.add_argument("--cloud", default="azure", choices=["azure", "aws"])
    parser.add_argument("--sandboxes", default="prod,dev", help="comma-separated sandboxes the organisation has")
    parser.add_argument(
        "--events-retry-seconds",
        type=float,
        default=60.0,
        help="what stands for I/O Events' minute between webhook delivery retries",
    )
    args = parser.parse_args(argv)
    emulator = Emulator(
        port=args.port,
        client_secret=args.client_secret,
        cloud=args.cloud,
        sandboxes=[s.strip() for s in args.sandboxes.split(",") if s.strip()],
        events_retry_seconds=args.events_retry_seconds,
    ).start()
    print(f"{emulator.url} {emulator.client_id} {emulator.org_id}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
