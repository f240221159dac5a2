#!/bin/bash
# The image's health check (HEALTHCHECK): GET /healthz on the server's HTTP port over loopback,
# healthy on "200". Plain HTTP goes through bash's /dev/tcp, so the image needs no curl; when the
# port gives no HTTP answer (with --tls it speaks HTTPS only and closes on plaintext), the same
# request goes through `openssl s_client` (the image has libssl anyway). The certificate is not
# checked: this is the container talking to itself over loopback.
# EDGELENS_HEALTH_PORT: the --http-port the server was started with (default 5000, the image's).
port=${EDGELENS_HEALTH_PORT:-5000}
request=$'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || exit 1
printf '%s' "$request" >&3
if read -r -t 5 protocol status _ <&3 && [[ $protocol == HTTP/* ]]; then
    [[ $status == 200 ]]
    exit
fi
exec 3<&-
# A command substitution waits for openssl: a child left running would be reparented to the
# server, PID 1 here, which reaps no children.
response=$(printf '%s' "$request" | openssl s_client -quiet -connect "127.0.0.1:$port" 2>/dev/null)
read -r protocol status _ <<<"$response"
[[ $protocol == HTTP/* && $status == 200 ]]
