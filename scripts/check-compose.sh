#!/usr/bin/env bash
# Checks the deployment files without a container engine (run by CTest as `compose_config`):
#  1. docker/docker-compose.yml is valid Compose (`config -q`), with and without the sandbox
#     profile, given the secrets it requires; without them it refuses to render; the sandbox
#     service exists only under its profile.
#  2. docker/Dockerfile's build stage runs scripts/install-deps.sh and scripts/build.sh, and
#     scripts/test.sh runs scripts/build.sh: the image is built by the same steps as CI.
# When no compose is present it installs Debian 12's docker-compose (1.29, which parses compose
# files without a Docker engine) with apt-get, as root or with sudo.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
compose_file=docker/docker-compose.yml
dockerfile=docker/Dockerfile
status=0
fail() {
    echo "check-compose: $*" >&2
    status=1
}

# --- a compose implementation --------------------------------------------------------------
compose=()
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    echo "check-compose: installing docker-compose (Debian 12's; parses compose files without an engine)"
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            docker-compose >/dev/null; then
        echo "check-compose: could not install docker-compose (needs apt-get as root or sudo)" >&2
        exit 1
    fi
    compose=(docker-compose)
fi

# Runs compose on the file with only the given variables: the caller's environment and any .env
# file must not decide the outcome (docker-compose 1.29 wants a regular file, not /dev/null).
empty_env=$(mktemp)
trap 'rm -f "$empty_env"' EXIT
run_compose() {
    local vars=()
    while [[ $# -gt 0 && "$1" == *=* ]]; do
        vars+=("$1")
        shift
    done
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" "${vars[@]}" \
        "${compose[@]}" --env-file "$empty_env" -f "$compose_file" "$@"
}

# shellcheck disable=SC2054  # the comma is the app secrets' list separator
secrets=(WAGATE_ADMIN_TOKEN=check-admin-token WAGATE_META_APP_SECRETS=check-secret-1,check-secret-2
         WAGATE_META_VERIFY_TOKEN=check-verify-token)

# --- 1. the compose file -------------------------------------------------------------------
compose_valid=1
if ! out=$(run_compose "${secrets[@]}" config -q 2>&1); then
    fail "$compose_file is not valid compose (${compose[*]} config):"
    echo "$out" >&2
    compose_valid=0
fi
if ! rendered=$(run_compose "${secrets[@]}" WAGATE_UPSTREAM_URL=http://sandbox:8090 WAGATE_UPSTREAM_ALLOW_HTTP=true \
        --profile sandbox config 2>&1); then
    fail "$compose_file is not valid compose with --profile sandbox (${compose[*]} config):"
    echo "$rendered" >&2
    compose_valid=0
fi
if [[ $compose_valid -eq 1 ]]; then
    # Each secret is required (${VAR:?message}): without it the file does not render.
    for secret in "${secrets[@]}"; do
        others=()
        for s in "${secrets[@]}"; do
            [[ "$s" != "$secret" ]] && others+=("$s")
        done
        if run_compose "${others[@]}" config -q >/dev/null 2>&1; then
            fail "$compose_file renders without ${secret%%=*}: a secret must be required (\${${secret%%=*}:?message}), not defaulted"
        fi
    done
    # Services and their profiles, read from the file rendered with the profile active, so that
    # every service is listed ("service: profile,…", sorted).
    profiles=$(awk '
        /^[^ ]/ { in_services = ($0 == "services:"); next }
        in_services && /^  [^ ]/ { service = $1; sub(/:$/, "", service); seen[service] = 1; next }
        in_services && in_profiles && /^    *- / { p[service] = p[service] (p[service] ? "," : "") $2; next }
        in_services && /^    [^ ]/ { in_profiles = ($1 == "profiles:"); next }
        END { for (s in seen) print s ": " p[s] }' <<<"$rendered" | sort | paste -sd';' -)
    if [[ "$profiles" != "postgres: ;sandbox: sandbox;wagate: " ]]; then
        fail "the services must be postgres and wagate, always, and sandbox under the sandbox profile" \
            "only; got (service: profiles): $profiles"
    fi
fi

# --- 2. the Dockerfile builds with CI's scripts ----------------------------------------------
# The RUN instructions of the first stage, continuation lines joined.
build_stage_runs=$(awk '
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*FROM[[:space:]]/ { stages++; next }
    stages == 1 {
        line = $0
        if (continued) { run = run " " line } else if (line ~ /^[[:space:]]*RUN[[:space:]]/) { run = line } else { next }
        continued = (line ~ /\\[[:space:]]*$/)
        if (!continued) { print run; run = "" }
    }' "$dockerfile")
for script in scripts/install-deps.sh scripts/build.sh; do
    if ! grep -q "$script" <<<"$build_stage_runs"; then
        fail "$dockerfile: the build stage must RUN $script, the script CI runs"
    fi
done
if ! grep -qE '^[^#]*scripts/build\.sh' scripts/test.sh; then
    fail "scripts/test.sh must build with scripts/build.sh, the script docker/Dockerfile runs"
fi

if [[ $status -eq 0 ]]; then
    echo "compose check: ok (${compose[*]}; $dockerfile builds with scripts/install-deps.sh and scripts/build.sh)"
fi
exit $status
