#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use (peer data planes, load generator, Prometheus,
# the browser for UI tests). Idempotent: only missing packages are installed.
set -euo pipefail
# nghttp2-client: nghttp/h2load (HTTP/2 and gRPC interop); nftables + iproute2: pod network namespaces (capture);
# util-linux: setpriv (sidecars in pods run as uid 1337, exempt from capture)
want=(wrk nginx-light haproxy prometheus chromium nghttp2-client nftables iproute2 util-linux)
need_cmds=(wrk nginx haproxy prometheus chromium nghttp nft ip setpriv)
missing=()
for i in "${!want[@]}"; do
  command -v "${need_cmds[$i]}" >/dev/null 2>&1 || missing+=("${want[$i]}")
done
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
echo "install-system-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start their daemons; tests start their own on loopback ports.
for svc in nginx haproxy prometheus; do
  ($SUDO systemctl stop "$svc" 2>/dev/null || $SUDO service "$svc" stop 2>/dev/null || true) >/dev/null 2>&1
done
