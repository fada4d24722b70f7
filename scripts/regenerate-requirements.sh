#!/usr/bin/env bash
# Regenerate the action's pinned, hash-checked requirements (scripts/setup-action.sh installs
# them): requirements/uv.txt from requirements/uv.in, and requirements/action.txt from
# pyproject.toml's dependencies, for Python 3.10 and up on every platform (--universal).
# Pins already in a file are kept unless asked otherwise; extra arguments go to every
# compile, e.g. --upgrade, or --upgrade-package httpx. The compiler is the pinned uv itself,
# installed hash-checked into a temporary directory. Needs python3 and the package index.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
  --require-hashes --target "$tools" -r requirements/uv.txt
compile() {  # SOURCE OUTPUT [EXTRA...], in the order the files' headers record
  "$tools/bin/uv" pip compile "$1" --universal --python-version 3.10 --generate-hashes \
    -o "$2" --quiet "${@:3}"
}
compile requirements/uv.in requirements/uv.txt "$@"
compile pyproject.toml requirements/action.txt "$@"
