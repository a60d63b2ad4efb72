#!/usr/bin/env python3
"""HEALTHCHECK of the fashion-mnist image: is JupyterLab answering on $JUPYTER_PORT (8080)?

``GET /api`` needs no token and answers only once the server is up. A container that runs a
batch command instead (papermill, fashion ...) has no server to check, so it counts as healthy.
"""

import os
import sys
import urllib.request
from pathlib import Path

PORT = int(os.environ.get("JUPYTER_PORT") or 8080)


def main() -> int:
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        cmdline = b"jupyter"
    if b"jupyter" not in cmdline:
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"JupyterLab not answering on port {PORT}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
