# shellcheck shell=bash
# Sourced by the ensure_* scripts: messages under the script's name, running a command as root, installing Debian
# packages and waiting for a server.

WAIT_SECONDS=60

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }
die() {
    printf '%s: ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2
    exit 1
}

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root, and sudo is not available: run this script as root"
    fi
}

apt_updated=false
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "$* missing and no apt-get to install it: install $* yourself"
    if [[ $apt_updated == false ]]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=true
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Waits until "$@" succeeds, for at most WAIT_SECONDS.
wait_for() {
    local what=$1 deadline=$((SECONDS + WAIT_SECONDS))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || die "$what did not answer within ${WAIT_SECONDS}s"
        sleep 1
    done
}
