#!/usr/bin/env bash
# Install gridgov into .venv on a fresh Debian machine with Python 3.11.
#   scripts/install.sh          the application (+ the web front-end build)
#   scripts/install.sh --test   also the test tools and Debian's chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need_apt=()
command -v python3.11 >/dev/null || need_apt+=(python3.11 python3.11-venv)
python3.11 -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3.11-venv)
command -v npm >/dev/null || need_apt+=(nodejs npm)
[ $want_test = 1 ] && { command -v chromium >/dev/null || need_apt+=(chromium); }
# Chinese glyphs in the browser tests' screenshots (headless Chromium has no CJK font of its own).
[ $want_test = 1 ] && { dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need_apt+=(fonts-wqy-microhei); }
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3.11 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ $want_test = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi

# MapLibre GL comes from the npm registry at build time; it is never committed.
npm --prefix web ci --no-audit --no-fund --loglevel=error
node web/build.mjs
