#!/usr/bin/env bash
# The tools the test suite drives that pip and npm do not install:
# - Debian's Chromium, for the report's browser test;
# - the real RustGPT, built offline from ../shared/oracles/rustgpt into ../oracle-build
#   (about 4 minutes from clean, seconds after), for the oracle tests.
# The README's test command and .ci/run both call it; a second run does nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# RUSTGPT_NO_ORACLE=1 (a machine without cargo or ../shared): the oracle tests skip, as they say
if [ -z "${RUSTGPT_NO_ORACLE:-}" ]; then
  ../shared/oracles/rustgpt/build.sh ../oracle-build >/dev/null
fi
