#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and opens the desktop app with
# its embedded server on the default model. Extra arguments go to the app (images, --output ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh
if ! build/bin/edgelens-cli models list --found-only >/dev/null 2>&1; then
    # No model on this machine yet: fetch the default once (checked by sha256).
    build/bin/edgelens-cli models download nanodet-m-320 || true
fi
exec build/bin/edgelens --embedded "$@"
