#!/usr/bin/env bash
# Install what the UI suite (tests/ui) needs, only when missing. Idempotent and quiet; for CI and dev boxes.
#   - Debian/Ubuntu packages: chromium (+ chromium-driver, for a Selenium fallback)
#   - the `playwright` Python client (no browser download: the suite drives /usr/bin/chromium)
# Usage: tests/ui/install_chromium.sh [python]   (default: .venv/bin/python of the repo, else python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="${1:-}"
if [[ -z "$py" ]]; then
  if [[ -x "$repo/.venv/bin/python" ]]; then py="$repo/.venv/bin/python"; else py="$(command -v python3)"; fi
fi

if [[ ! -x /usr/bin/chromium ]]; then
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if ! "$py" -c "import playwright.sync_api" >/dev/null 2>&1; then
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  venv_uv="$(dirname "$py")/uv"
  if [[ -x "$venv_uv" ]]; then
    "$venv_uv" pip install --quiet --python "$py" playwright
  elif command -v uv >/dev/null 2>&1; then
    uv pip install --quiet --python "$py" playwright
  else
    "$py" -m pip install --quiet playwright
  fi
fi

/usr/bin/chromium --version >/dev/null 2>&1 || { echo "chromium is installed but does not start" >&2; exit 1; }
"$py" -c "import playwright.sync_api" || { echo "playwright is not importable by $py" >&2; exit 1; }
