#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned packages.
# Idempotent: does nothing when requirements.lock has not changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

stamp=".venv/.installed-$(sha256sum requirements.lock | cut -c1-16)"
if [ -f "$stamp" ] && [ -x .venv/bin/python ]; then
  exit 0
fi

if ! python310=$(find_python310); then
  cat >&2 <<'MSG'
error: no Python 3.10 found.
Rasa 3.6 (the last open-source release) runs only on Python 3.8-3.10 and this project pins 3.10.
Install it, e.g. `pyenv install 3.10.13` (the repo's .python-version then selects it),
or point to one with PYTHON=/path/to/python3.10 and run this again.
MSG
  exit 1
fi

echo "bootstrap: installing pinned packages into .venv with $python310 (a few minutes the first time)"
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  rm -rf .venv
fi
[ -x .venv/bin/python ] || "$python310" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==24.0"
# The lock is complete (pip freeze), so no resolver run: --no-deps keeps optional
# heavy dependencies (torch via sentence-transformers) out.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
rm -f .venv/.installed-*
touch "$stamp"
echo "bootstrap: done"
