#!/usr/bin/env bash
# Installs everything Showrunner needs on Debian/Ubuntu: system packages, then Python packages into .venv.
# Safe to re-run: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng chromium fonts-dejavu-core fonts-liberation fonts-noto-cjk
              libcairo2-dev libpango1.0-dev pkg-config texlive-latex-extra texlive-fonts-recommended dvisvgm
              python3-venv python3-dev build-essential nodejs npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# a Node.js from elsewhere (e.g. nodesource or nvm) is fine: do not fight it with Debian's packages
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, pinned to the CPU build: otherwise a dependency pulls the newest CUDA build (GBs)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "==> pip install torch==2.13.0 (CPU)"
  .venv/bin/pip install -q "torch==2.13.0"
fi
stamp=.venv/.showrunner-deps
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> pip install -e .[test]"
  .venv/bin/pip install -q -e ".[test]"
  touch "$stamp"
fi

if [ -f recipes/remotion/package.json ] && command -v npm >/dev/null; then
  if [ ! -d recipes/remotion/node_modules ] || [ recipes/remotion/package.json -nt recipes/remotion/node_modules ]; then
    # `npm install`, not `npm ci`: the lock lacks other platforms' optional compositor binaries
    echo "==> npm install (recipes/remotion: Remotion renders with the system Chromium)"
    npm install --prefix recipes/remotion --no-audit --no-fund --loglevel=error \
      && touch recipes/remotion/node_modules \
      || echo "warning: npm install for Remotion failed; remotion scenes will not build"
  fi
fi
echo "==> installed: $(.venv/bin/python --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $(chromium --version 2>/dev/null || echo 'no chromium')"
