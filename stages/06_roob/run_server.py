"""Run the product API on the standard library's development server.

    python run_server.py                  # http://127.0.0.1:8000/
    python run_server.py --port 8080 --debug

``wsgiref.simple_server`` serves one request at a time and is meant for
development only; ``run_gunicorn.sh`` runs the same app under gunicorn.
"""

from __future__ import annotations

import argparse
from wsgiref.simple_server import make_server


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Read --host, --port and --debug from the command line."""
    parser = argparse.ArgumentParser(description="Serve roob's product API for development.")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show exception details in 500 responses (as ROOB_DEBUG=1 does)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve core.main:app until Ctrl-C."""
    arguments = parse_arguments(argv)
    from core.main import app  # imported here so --help works even if the app is broken

    if arguments.debug:
        app.debug = True
    with make_server(arguments.host, arguments.port, app) as server:
        print(
            f"Serving roob on http://{arguments.host}:{arguments.port}/ (Ctrl-C stops it)",
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
