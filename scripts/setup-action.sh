#!/usr/bin/env bash
# Install approvalflow-sync's dependencies into a private virtual environment, leaving the
# user's Python alone. They are pinned and hash-checked (requirements/action.txt) and installed
# by uv; the package itself is put on the path with a .pth file, so nothing is built.
set -euo pipefail
action_path=${ACTION_PATH:?ACTION_PATH is not set}
home="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/approvalflow-sync"
python=$(command -v python3 || command -v python || true)
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "::error title=approvalflow-sync::Python 3.10 or newer is needed on the runner" \
    "(found: ${python:-none}); add actions/setup-python before this action"
  exit 1
fi
if [ ! -x "$home/bin/python" ] || ! "$home/bin/python" -c "import github, httpx" 2>/dev/null; then
  "$python" -m venv "$home"
  "$home/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
  "$home/bin/uv" pip install --quiet --python "$home/bin/python" --require-hashes \
    -r "$action_path/requirements/action.txt"
fi
site=$("$home/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$action_path/src" > "$site/approvalflow_sync_action.pth"
echo "APPROVALFLOW_SYNC_HOME=$home" >> "$GITHUB_ENV"
"$home/bin/python" -m approvalflow_sync --version
