#!/bin/sh
# Install the Debian packages Keepword builds and tests with, if any is missing.
# Idempotent: does nothing (and needs no network) when all are installed.
set -eu
PKGS="cmake ninja-build gcc clang clang-format shellcheck pkg-config tzdata libjansson-dev libical-dev libcmocka-dev libsqlite3-dev sqlite3 libsodium-dev libssl-dev libpq-dev postgresql libmicrohttpd-dev libcurl4-openssl-dev libqrencode-dev libmagic-dev curl jq openssl chromium fonts-noto-cjk libcairo2-dev libpango1.0-dev libxlsxwriter-dev poppler-utils unzip libgmime-3.0-dev dovecot-imapd prometheus-alertmanager"
# the browser tests' driver (playwright-core 1.64) runs on Node.js 20 or later
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The tests start PostgreSQL, Dovecot and Alertmanager themselves, on
# loopback in temporary directories: their packages' own services are not
# started by the install (a policy-rc.d that refuses, unless one is there).
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    policy=/usr/sbin/policy-rc.d
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?
if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
exit "$rc"
