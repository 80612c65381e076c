#!/usr/bin/env bash
# Installs what `make dev` and `make test` need and is missing: uv, then the locked Python workspace.
# The servers install themselves (postgres.sh, kafka.sh, redis.sh) when first started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  require_command python3 "install Python 3.11"
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user uv >/dev/null 2>&1 || python3 -m pip install --quiet uv \
    || die "pip could not install uv"
fi
UV="$(command -v uv 2>/dev/null || echo "python3 -m uv")"
cd "$PROJECT_ROOT"
$UV sync --locked --quiet --compile-bytecode || die "uv sync --locked failed (is uv.lock in step with the pyproject files?)"
