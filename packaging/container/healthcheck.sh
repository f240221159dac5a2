#!/bin/bash
# The image's health check (HEALTHCHECK): GET /healthz on the server's HTTP port over loopback,
# healthy on "200". Bash's /dev/tcp does the request, so the image needs no curl or wget.
# EDGELENS_HEALTH_PORT: the --http-port the server was started with (default 5000, the image's).
# With --tls the HTTP port speaks HTTPS only, which bash cannot: turn the check off
# (--no-healthcheck, compose `healthcheck: disable: true`) or use your own; docs/DEPLOY.md.
port=${EDGELENS_HEALTH_PORT:-5000}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
read -r -t 5 _ status _ <&3 || exit 1
[[ $status == 200 ]]
