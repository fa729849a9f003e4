#!/usr/bin/env bash
# Installs the benchmark's anchors and load tools from Debian's packages (idempotent; no other downloads):
# nginx, haproxy, wrk, h2load (nghttp2-client), taskset (util-linux). Run as root, or with sudo available.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)

if [ "${#need[@]}" -eq 0 ]; then
  echo "bench/setup.sh: nginx, haproxy, wrk, h2load and taskset are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bench/setup.sh: installing ${need[*]}"
$SUDO apt-get update -qq
# nginx-light is Debian 12's small nginx flavour; newer Debian folds it into plain nginx.
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; then
  fallback=("${need[@]/nginx-light/nginx}")
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${fallback[@]}"
fi
# The packaged services are not wanted running: the benchmark starts its own instances with its own configs.
for svc in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then $SUDO systemctl stop "$svc" || true; fi
done
for b in nginx haproxy wrk h2load taskset; do command -v "$b" >/dev/null 2>&1 || { echo "bench/setup.sh: $b still missing" >&2; exit 1; }; done
echo "bench/setup.sh: done"
