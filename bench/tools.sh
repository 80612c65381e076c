#!/usr/bin/env bash
# Installs the load generator the benchmarks drive (wrk, from Debian's packages) when missing.
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"
command -v wrk >/dev/null 2>&1 || ensure_apt_packages wrk
