#!/usr/bin/env bash
# Installs the pinned playwright-core (the browser driver, no bundled browser) into a cache dir
# outside the repository and prints nothing when it is already there. The browser is the system
# Chromium (/usr/bin/chromium).
#
#   setup.sh            # installs if needed; prints the node_modules dir on stdout with --print
#   setup.sh --print
set -euo pipefail

PLAYWRIGHT_CORE_VERSION="1.65.1"
CACHE="${CCSTREAM_NPM_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/ccstream/npm}"
PREFIX="${CACHE}/playwright-core-${PLAYWRIGHT_CORE_VERSION}"
STAMP="${PREFIX}/.installed"

command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }

if [ ! -f "${STAMP}" ] || [ ! -f "${PREFIX}/node_modules/playwright-core/package.json" ]; then
  mkdir -p "${PREFIX}"
  tmp_log="$(mktemp)"
  # No browser download: playwright-core has no install hook, and the system Chromium is used.
  if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "${PREFIX}" --no-save \
      --no-audit --no-fund --no-package-lock --loglevel=error \
      "playwright-core@${PLAYWRIGHT_CORE_VERSION}" >"${tmp_log}" 2>&1; then
    cat "${tmp_log}" >&2
    rm -f "${tmp_log}"
    echo "setup.sh: cannot install playwright-core@${PLAYWRIGHT_CORE_VERSION}" >&2
    exit 1
  fi
  rm -f "${tmp_log}"
  installed="$(node -p "require('${PREFIX}/node_modules/playwright-core/package.json').version")"
  [ "${installed}" = "${PLAYWRIGHT_CORE_VERSION}" ] || {
    echo "setup.sh: installed playwright-core ${installed}, expected ${PLAYWRIGHT_CORE_VERSION}" >&2
    exit 1
  }
  touch "${STAMP}"
  echo "setup.sh: installed playwright-core@${PLAYWRIGHT_CORE_VERSION} in ${PREFIX}" >&2
fi

if [ "${1:-}" = "--print" ]; then
  echo "${PREFIX}/node_modules"
fi
