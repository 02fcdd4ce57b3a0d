#!/usr/bin/env bash
# Installs everything Showrunner needs: system packages (apt on Debian/Ubuntu, Homebrew on macOS), then Python
# packages into .venv and Remotion's node modules. Safe to re-run: it skips what is already there.
#
#   scripts/install.sh             install
#   scripts/install.sh --dry-run   print what it would install or run here, change nothing
#
# SHOWRUNNER_OS=Darwin|Linux overrides `uname -s` (to see the other platform's plan with --dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run|-n) DRY_RUN=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (try --dry-run)" >&2; exit 2 ;;
  esac
done
OS=${SHOWRUNNER_OS:-$(uname -s)}

# run CMD...: run it, or print it under --dry-run
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf 'would run:'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

APT_PACKAGES=(ffmpeg espeak-ng chromium fonts-dejavu-core fonts-liberation fonts-noto-cjk
              libcairo2-dev libpango1.0-dev pkg-config texlive-latex-extra texlive-fonts-recommended dvisvgm
              python3-venv python3-dev build-essential nodejs npm shellcheck)
# Homebrew: formulae, then casks (Chromium for slides and Remotion; BasicTeX for manim's MathTex)
BREW_FORMULAE=(ffmpeg espeak-ng cairo pango pkg-config python@3.11 node shellcheck)
BREW_CASKS=(chromium basictex font-dejavu font-liberation font-noto-sans-cjk)
TEX_PACKAGES=(standalone preview doublestroke relsize fundus-calligra wasysym physics dvisvgm
              rsfs wasy cm-super everysel ragged2e microtype)

install_debian() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # a Node.js from elsewhere (e.g. nodesource or nvm) is fine: do not fight it with Debian's packages
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local keep=()
    for p in "${missing[@]}"; do
      [ "$p" = nodejs ] || [ "$p" = npm ] || keep+=("$p")
    done
    missing=("${keep[@]}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    run "${sudo[@]}" apt-get update -qq
    if [ "$DRY_RUN" -eq 1 ]; then
      run "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi
}

install_macos() {
  local brew
  brew=$(command -v brew || true)
  if [ -z "$brew" ]; then
    for brew in /opt/homebrew/bin/brew /usr/local/bin/brew; do [ -x "$brew" ] && break; done
  fi
  if [ ! -x "$brew" ]; then
    if [ "$DRY_RUN" -eq 1 ]; then
      brew=brew
      echo "note: Homebrew is not installed; install it from https://brew.sh first"
    else
      echo "Homebrew is needed on macOS: install it from https://brew.sh, then run this script again" >&2
      exit 1
    fi
  fi
  local missing=() casks=() p
  for p in "${BREW_FORMULAE[@]}"; do
    "$brew" list --formula "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  for p in "${BREW_CASKS[@]}"; do
    "$brew" list --cask "$p" >/dev/null 2>&1 || casks+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> brew install ${missing[*]}"
    run "$brew" install "${missing[@]}"
  fi
  if [ ${#casks[@]} -gt 0 ]; then
    echo "==> brew install --cask ${casks[*]}"
    run "$brew" install --cask "${casks[@]}"
  fi
  # BasicTeX is small: add the LaTeX packages manim's MathTex templates use
  local tlmgr=/Library/TeX/texbin/tlmgr
  if [ "$DRY_RUN" -eq 1 ] || [ -x "$tlmgr" ]; then
    echo "==> tlmgr install (LaTeX packages for manim)"
    run sudo "$tlmgr" update --self
    run sudo "$tlmgr" install "${TEX_PACKAGES[@]}"
  fi
  # Chromium from the cask lives in an app bundle; renderers find it through SHOWRUNNER_CHROMIUM or these paths
  echo "==> Chromium: /Applications/Chromium.app (set SHOWRUNNER_CHROMIUM to use another Chromium or Chrome)"
}

case "$OS" in
  Linux) install_debian ;;
  Darwin) install_macos ;;
  *) echo "install.sh supports Debian/Ubuntu (apt) and macOS (Homebrew), not $OS" >&2; exit 1 ;;
esac

PY=${PYTHON:-python3}
if [ "$OS" = Darwin ] && [ -z "${PYTHON:-}" ]; then
  for PY in /opt/homebrew/bin/python3.11 /usr/local/bin/python3.11 python3.11 python3; do
    command -v "$PY" >/dev/null && break
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  run "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first. On Linux pinned to the CPU build: otherwise a dependency pulls the newest CUDA build (GBs).
# On macOS the default wheel is the one with Metal (MPS) support.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if [ "$OS" = Darwin ]; then
    echo "==> pip install torch (default macOS wheel: CPU + MPS)"
    run .venv/bin/pip install -q "torch==2.13.0"
  else
    echo "==> pip install torch==2.13.0 (CPU)"
    run .venv/bin/pip install -q "torch==2.13.0"
  fi
fi
stamp=.venv/.showrunner-deps
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> pip install -e .[test]"
  run .venv/bin/pip install -q -e ".[test]"
  run touch "$stamp"
fi

if [ -f recipes/remotion/package.json ] && { [ "$DRY_RUN" -eq 1 ] || command -v npm >/dev/null; }; then
  if [ ! -d recipes/remotion/node_modules ] || [ recipes/remotion/package.json -nt recipes/remotion/node_modules ]; then
    # `npm install`, not `npm ci`: the lock lacks other platforms' optional compositor binaries
    echo "==> npm install (recipes/remotion: Remotion renders with the system Chromium)"
    if [ "$DRY_RUN" -eq 1 ]; then
      run npm install --prefix recipes/remotion --no-audit --no-fund --loglevel=error
    else
      npm install --prefix recipes/remotion --no-audit --no-fund --loglevel=error \
        && touch recipes/remotion/node_modules \
        || echo "warning: npm install for Remotion failed; remotion scenes will not build"
    fi
  fi
fi
if [ "$DRY_RUN" -eq 1 ]; then
  echo "==> dry run for $OS: nothing was changed"
  exit 0
fi
chromium_version=$(chromium --version 2>/dev/null || "/Applications/Chromium.app/Contents/MacOS/Chromium" --version 2>/dev/null \
  || echo 'no chromium')
echo "==> installed: $(.venv/bin/python --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $chromium_version"
