# Sourced by the ensure_* scripts: messages under the script's name, and running a command as root.

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
