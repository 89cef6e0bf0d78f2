#!/usr/bin/env bash
# Install everything (scripts/install.sh --test) and run the whole test suite:
# lint, migrations check, unit + API tests on SQLite and PostgreSQL, browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
.venv/bin/ruff check gridgov tests bench
.venv/bin/ruff format --check gridgov tests bench
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
