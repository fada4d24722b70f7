#!/usr/bin/env bash
# Install approvalflow-sync's dependencies into a private virtual environment, leaving the
# user's Python alone. uv (pinned and hash-checked, requirements/uv.txt) installs the pinned and
# hash-checked dependencies (requirements/action.txt); the package itself goes on the path with
# a .pth file, so nothing is built. uv and its download cache live in one cache directory that
# the action restores between workflow runs (actions/cache, keyed on the requirement files).
#
# Earlier jobs may have written to that cache (self-hosted runners, restored caches), so nothing
# in it is run unchecked: scripts/verified_uv.py checks the uv wheel against the pinned hashes
# and the binary against the wheel. A venv left by an earlier run is reused only when its marker
# (the sha256 of the pinned requirements and the interpreter, written after a complete install)
# matches; otherwise it is built again from scratch. A reused venv costs no uv at all.
set -euo pipefail
action_path=${ACTION_PATH:?ACTION_PATH is not set}
home="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/approvalflow-sync"
cache="${APPROVALFLOW_SYNC_CACHE:-${RUNNER_TOOL_CACHE:-${HOME}/.cache}/approvalflow-sync}"
python=$(command -v python3 || command -v python || true)
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "::error title=approvalflow-sync::Python 3.10 or newer is needed on the runner" \
    "(found: ${python:-none}); add actions/setup-python before this action"
  exit 1
fi
requirements="$action_path/requirements"
marker=$("$python" -c 'import hashlib, sys
pins = open(sys.argv[1], "rb").read()
print(hashlib.sha256(pins + sys.version.encode() + sys.executable.encode()).hexdigest())' \
  "$requirements/action.txt")
if [ "$(cat "$home/approvalflow-sync.marker" 2>/dev/null || true)" != "$marker" ]; then
  export UV_CACHE_DIR="${UV_CACHE_DIR:-$cache/uv-cache}" UV_LINK_MODE=copy UV_NO_PROGRESS=1
  uv=$("$python" "$action_path/scripts/verified_uv.py" "$requirements/uv.txt" "$cache/uv")
  rm -rf -- "$home"
  "$uv" venv --quiet --python "$python" "$home"
  "$uv" pip install --quiet --python "$home/bin/python" --require-hashes \
    -r "$requirements/action.txt"
  echo "$marker" > "$home/approvalflow-sync.marker"
fi
site=$("$home/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$action_path/src" > "$site/approvalflow_sync_action.pth"
echo "APPROVALFLOW_SYNC_HOME=$home" >> "$GITHUB_ENV"
"$home/bin/python" -m approvalflow_sync --version
