# Sourced by demo.sh and test.sh: make ./.venv, installing Debian's python3-venv when missing.
ensure_venv() {
    if [ -x .venv/bin/python ]; then return; fi
    if ! python3 -m venv .venv 2>/dev/null; then
        echo "== python3 -m venv failed; installing python3-venv with apt-get"
        rm -rf .venv
        local sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
}
