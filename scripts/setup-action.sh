#!/usr/bin/env bash
# Install approvalflow-sync's dependencies into a private virtual environment, leaving the
# user's Python alone. uv (pinned and hash-checked, requirements/uv.txt) installs the pinned and
# hash-checked dependencies (requirements/action.txt); the package itself goes on the path with
# a .pth file, so nothing is built. uv and its download cache live in one cache directory that
# the action restores between workflow runs (actions/cache, keyed on the requirement files).
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
export UV_CACHE_DIR="${UV_CACHE_DIR:-$cache/uv-cache}" UV_LINK_MODE=copy UV_NO_PROGRESS=1
uv="$cache/uv/bin/uv"
if [ ! -x "$uv" ]; then
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --require-hashes --target "$cache/uv" -r "$action_path/requirements/uv.txt"
fi
if ! "$home/bin/python" -c "import github, httpx, pydantic, yaml" 2>/dev/null; then
  "$uv" venv --quiet --allow-existing --python "$python" "$home"
  "$uv" pip install --quiet --python "$home/bin/python" --require-hashes \
    -r "$action_path/requirements/action.txt"
fi
site=$("$home/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$action_path/src" > "$site/approvalflow_sync_action.pth"
echo "APPROVALFLOW_SYNC_HOME=$home" >> "$GITHUB_ENV"
"$home/bin/python" -m approvalflow_sync --version
