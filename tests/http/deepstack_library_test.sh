#!/usr/bin/env bash
# Done-when check of issue 10: an existing, unmodified DeepStack client library talks to
# edgelens-server's HTTP API. The library is node-red-contrib-deepstack 0.3.0 from npm (its
# deepstack-integration.js: objectDetection / customModel with got + form-data, raising on any
# non-200 answer), installed into a temporary folder, never into the repository.
# Usage: deepstack_library_test.sh EDGELENS_SERVER SHARED_DIR
# With DEEPSTACK_TEST_PORT and DEEPSTACK_TEST_TOKEN set, EDGELENS_SERVER is not started: the
# server already listening there on 127.0.0.1 is checked (tests/container: the image in podman;
# it must serve yolo-fastest-xl-320 besides its default model).
# Exit 77 (CTest: skipped) when node, npm or the npm registry is missing, except under CI=true.
set -euo pipefail
server=$1
shared=$2
library=node-red-contrib-deepstack@0.3.0

source "$(dirname "$0")/../support/unavailable.sh"
command -v node >/dev/null || unavailable "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || unavailable "npm is not installed (apt-get install npm)"
[[ -f "$shared/data/samples/soccer.jpg" ]] || unavailable "$shared/data/samples/soccer.jpg is missing"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# --ignore-scripts: sharp's download step is for the Node-RED image nodes, not the client.
(cd "$work" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error "$library" >npm.log 2>&1) \
    || unavailable "npm install $library failed: $(tail -3 "$work/npm.log")"

if [[ -n ${DEEPSTACK_TEST_PORT:-} ]]; then
    port=$DEEPSTACK_TEST_PORT
    token=${DEEPSTACK_TEST_TOKEN:?DEEPSTACK_TEST_TOKEN goes with DEEPSTACK_TEST_PORT}
else
    token=K-$RANDOM$RANDOM
    "$server" --host 127.0.0.1 --port 0 --http-port 0 --token "$token" \
        --model nanodet-m-320 --model yolo-fastest-xl-320 --models-dir "$shared/models" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 600); do
        grep -q '^listening on' "$work/server.out" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; echo "server exited" >&2; exit 1; }
        sleep 0.1
    done
    port=$(sed -n 's/^http listening on .*:\([0-9]*\)$/\1/p' "$work/server.out")
    [[ -n "$port" ]] || { cat "$work/server.out" "$work/server.err" >&2; echo "no HTTP port printed" >&2; exit 1; }
fi

cat >"$work/check.js" <<'JS'
const path = require('path');
const fs = require('fs');
const [workDir, port, token, imagePath] = process.argv.slice(2);
const deepstack = require(path.join(workDir, 'node_modules/node-red-contrib-deepstack/deepstack-integration.js'));
const server = (key) => ({proto: 'http', host: '127.0.0.1', port: port, version: 'v1',
                          credentials: {apiKey: key}, rejectUnauthorized: true});
const image = fs.readFileSync(imagePath);
const people = (answer) => answer.predictions.filter((p) => p.label === 'person').length;
(async () => {
    const detected = await deepstack.objectDetection(image, server(token), 0.4);
    if (!detected.success || people(detected) < 3)
        throw new Error('detection: expected at least 3 people, got ' + JSON.stringify(detected));
    console.log('objectDetection: ' + people(detected) + ' people, ' + detected.predictions.length + ' predictions');
    const custom = await deepstack.customModel(image, server(token), 0.4, 'yolo-fastest-xl-320');
    if (!custom.success || custom.model !== 'yolo-fastest-xl-320' || people(custom) < 3)
        throw new Error('custom model: ' + JSON.stringify(custom));
    console.log('customModel yolo-fastest-xl-320: ' + people(custom) + ' people');
    let status = 0;
    try {
        await deepstack.objectDetection(image, server('wrong-' + token), 0.4);
    } catch (error) {
        status = error.response ? error.response.statusCode : -1;
        console.log('wrong key: ' + error.name + ' ' + status + ' ' + (error.response ? error.response.body : error.message));
    }
    if (status !== 401)
        throw new Error('wrong key: expected an HTTP 401 error, got ' + status);
})().catch((error) => { console.error(error.message || error); process.exit(1); });
JS
node "$work/check.js" "$work" "$port" "$token" "$shared/data/samples/soccer.jpg"
echo "deepstack_library_test: $library passed against edgelens-server --http-port"
