#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only if they are missing:
#   chromium            browser tests (Playwright drives /usr/bin/chromium; never a downloaded browser)
#   postgresql          the second database backend (scripts/postgres.sh runs a private server)
#   fonts-dejavu-core   a real font, so screenshots and layout checks are stable
#   npm                 installs axe-core from the npm registry (tools/axe)
# A machine that already has them never touches apt. Runs `apt-get update` at most once.
set -euo pipefail

need=()

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    need+=(chromium)
fi
# Debian's server binaries live in /usr/lib/postgresql/<version>/bin.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    need+=(postgresql)
fi
if ! have_pkg fonts-dejavu-core; then
    need+=(fonts-dejavu-core)
fi
if ! command -v npm >/dev/null 2>&1; then
    need+=(npm)
fi

if [ "${#need[@]}" -eq 0 ]; then
    echo "system-deps: chromium, postgresql, fonts-dejavu-core and npm are present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    echo "system-deps: missing ${need[*]}; run as root: apt-get install -y ${need[*]}" >&2
    exit 1
fi

echo "system-deps: installing ${need[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
