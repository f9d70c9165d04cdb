#!/usr/bin/env bash
# Run the product API under gunicorn.
#
#   ./run_gunicorn.sh development   one worker, reloads on code changes, debug on
#   ./run_gunicorn.sh production    gunicorn_config.py: several workers, access log
#
# ROOB_BIND (default 127.0.0.1:8000) and ROOB_DB (the SQLite file) apply to both.
set -euo pipefail
cd "$(dirname "$0")"

# The workbook's virtualenv if there is one, else whatever gunicorn is on PATH.
gunicorn=gunicorn
if [ -x ../../.venv/bin/gunicorn ]; then
    gunicorn=../../.venv/bin/gunicorn
fi

case "${1:-}" in
    development)
        export ROOB_DEBUG="${ROOB_DEBUG:-1}"
        exec "$gunicorn" --bind "${ROOB_BIND:-127.0.0.1:8000}" --workers 1 --reload \
            --access-logfile - core.main:app
        ;;
    production)
        exec "$gunicorn" -c gunicorn_config.py core.main:app
        ;;
    *)
        echo "usage: $0 development|production" >&2
        exit 2
        ;;
esac
