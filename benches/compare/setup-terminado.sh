#!/usr/bin/env bash
# Installs terminado (PyPI) into its own virtualenv for the end-to-end comparison and prints
# the venv's python. Idempotent: a venv that already imports terminado is reused.
#
#   benches/compare/setup-terminado.sh <venv-dir>
set -euo pipefail
venv="${1:?usage: setup-terminado.sh <venv-dir>}"
if "$venv/bin/python" -c "import terminado, tornado" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" 2>/dev/null; then
  # Debian's python3 ships venv separately.
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "terminado==0.18.1" "tornado>=6.4" >&2
echo "$venv/bin/python"
