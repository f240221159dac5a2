#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and opens the desktop app with
# its embedded server on the default model. Extra arguments go to the app (images, --output ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh
if ! build/bin/edgelens-cli models list 2>/dev/null | grep -Eq '^picodet-s-320 .*\bfound\b'; then
    # No default model on this machine yet (no ../shared/models): fetch it once, checked by
    # sha256. Offline, the app still starts, on OpenCV's face/body cascades, and says so.
    build/bin/edgelens-cli models download picodet-s-320 || true
fi
exec build/bin/edgelens --embedded "$@"
