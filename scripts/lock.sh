#!/usr/bin/env bash
# The lockfiles, from pyproject.toml: every package pinned, with hashes.
#   requirements.lock      what callflow runs on (the Docker image installs it)
#   requirements-dev.lock  the same versions plus the tests' and tools' packages
#                          (scripts/bootstrap.sh installs it)
#   scripts/lock.sh            keep the pins, add what pyproject.toml newly needs
#   scripts/lock.sh --upgrade  move every package to its newest allowed version
# The package index is the one this machine's pip is configured with.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || scripts/bootstrap.sh
index=()
for key in index-url extra-index-url find-links; do
    value=$(.venv/bin/python -m pip config get "global.$key" 2>/dev/null || true)
    for url in $value; do index+=("--$key" "$url"); done
done
compile() {
    .venv/bin/uv pip compile --quiet pyproject.toml --generate-hashes --python-version 3.11 \
        --python-platform x86_64-unknown-linux-gnu --index-strategy unsafe-best-match \
        --custom-compile-command scripts/lock.sh \
        "${index[@]}" "$@"
}
compile -o requirements.lock "$@"
compile --extra dev --constraint requirements.lock -o requirements-dev.lock "$@"
echo "lock: requirements.lock and requirements-dev.lock written"
