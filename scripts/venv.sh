# Sourced by scripts/run and scripts/test: create or refresh .venv from pyproject.toml.
# Reinstalls only when pyproject.toml changed since the last install (a hash stamp).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "tfnn needs Python >= 3.10 (found: $("$python" --version 2>&1)); set PYTHON=/path/to/python3" >&2
  exit 2
fi
venv="$root/.venv"
stamp="$venv/.tfnn-installed"
wanted="$(cat "$root/pyproject.toml" | "$python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -x "$venv/bin/python" ]; then
  echo "scripts: creating $venv" >&2
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "scripts: installing tfnn and its dependencies into $venv (first time: a few minutes)" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e "$root[dev]"
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
