#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the registry tests and print its URL.
#
#   export KIT_TEST_POSTGRES_URL="$(scripts/start_postgres.sh)"   # CI: skip the Postgres tests if this fails
#   scripts/start_postgres.sh --stop DIR                           # stop it and delete DIR (printed on stderr)
#
# Installs PostgreSQL with apt-get when it is missing (root only), initialises a cluster in a
# fresh temp dir with a random password, listens on 127.0.0.1 only (no Unix socket outside
# the temp dir), and prints only the URL on stdout; everything else goes to stderr.
set -euo pipefail

log() { echo "start_postgres: $*" >&2; }

find_bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return 0
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {  # the server refuses to run as root: use the postgres system user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = "--stop" ]; then
  dir="${2:?usage: start_postgres.sh --stop DIR}"
  bindir="$(find_bindir)" || { log "pg_ctl not found"; exit 1; }
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
  exit 0
fi

if ! bindir="$(find_bindir)"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing postgresql with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; } \
      || { log "apt-get install postgresql failed"; exit 1; }
    bindir="$(find_bindir)" || { log "postgresql installed but pg_ctl not found"; exit 1; }
  else
    log "PostgreSQL is not installed (install it, or run as root with apt-get available)"; exit 1
  fi
fi

if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/kit-postgres.XXXXXX")"
password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '%s\n' "$password" > "$dir/pwfile"
[ "$(id -u)" = 0 ] && chown -R postgres "$dir"
chmod 700 "$dir"

as_owner "$bindir/initdb" -D "$dir/data" -U kit --pwfile="$dir/pwfile" -A scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { log "initdb failed: $(tail -n 3 "$dir/initdb.log")"; rm -rf "$dir"; exit 1; }
rm -f "$dir/pwfile"
as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50" start >/dev/null \
  || { log "server did not start: $(tail -n 3 "$dir/server.log")"; rm -rf "$dir"; exit 1; }

url="postgresql://kit:${password}@127.0.0.1:${port}/postgres"
log "running in $dir (stop with: scripts/start_postgres.sh --stop $dir)"
echo "$url"
