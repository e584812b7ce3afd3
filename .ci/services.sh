#!/usr/bin/env bash
# Makes sure the services Agora needs locally answer on their standard ports:
#   PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth over TCP)
#   Redis 7    on 127.0.0.1:6379
# For each: leave it alone when it already answers, otherwise start it when it
# is installed, otherwise install it from Debian's packages and start it.
# Needs no root when the services already run.
#
# Usage: .ci/services.sh [--chromium] [--db NAME]...
#   --chromium   also make sure /usr/bin/chromium exists (browser tests)
#   --db NAME    also make sure the PostgreSQL database NAME exists
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
DEADLINE_SECONDS=30

want_chromium=0
databases=()

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --chromium) want_chromium=1 ;;
    --db)
      [ $# -ge 2 ] || die "--db needs a database name"
      databases+=("$2")
      shift
      ;;
    --db=*) databases+=("${1#--db=}") ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

for db in ${databases[@]+"${databases[@]}"}; do
  [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] ||
    die "invalid database name '$db' (letters, digits and _ only)"
done

# ---------------------------------------------------------------- helpers

# as_root CMD...: run CMD as root (directly, or through sudo when available).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*' (not root and no sudo); start the service yourself"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "cannot install $* : apt-get not found (install it yourself)"
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -q || die "apt-get update failed"
    apt_updated=1
  fi
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" ||
    die "apt-get install $* failed"
}

# wait_for NAME CHECK_FUNCTION: poll until CHECK_FUNCTION succeeds or the
# deadline passes.
wait_for() {
  local check=$2 deadline=$((SECONDS + DEADLINE_SECONDS))
  while ! "$check"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.5
  done
}

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# ------------------------------------------------------------- PostgreSQL

pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

# pg_cluster: prints "VERSION NAME" of the cluster that uses port 5432, or of
# the first cluster when none does; prints nothing when there is no cluster.
pg_cluster() {
  local first="" ver name port
  if command -v pg_lsclusters >/dev/null 2>&1; then
    while read -r ver name port _; do
      [ -n "$first" ] || first="$ver $name"
      if [ "$port" = "$PG_PORT" ]; then
        echo "$ver $name"
        return
      fi
    done < <(pg_lsclusters -h 2>/dev/null || true)
  fi
  if [ -z "$first" ] && [ -d /etc/postgresql ]; then
    ver=$(ls /etc/postgresql 2>/dev/null | head -1 || true)
    if [ -n "$ver" ] && [ -d "/etc/postgresql/$ver/main" ]; then
      first="$ver main"
    fi
  fi
  [ -z "$first" ] || echo "$first"
}

pg_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(pg_cluster)" ]
}

# pg_configure VERSION NAME: listen on 127.0.0.1 (and ::1) and trust local TCP
# connections, ahead of every other pg_hba.conf line.
pg_configure() {
  local ver=$1 name=$2 dir="/etc/postgresql/$1/$2"
  local hba="$dir/pg_hba.conf"
  [ -f "$hba" ] || die "no $hba"

  if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" ||
     ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+::1/128[[:space:]]+trust' "$hba"; then
    say "postgresql: trusting local TCP connections in $hba"
    local tmp
    tmp=$(mktemp)
    as_root awk '
      !done && $0 !~ /^[[:space:]]*(#|$)/ {
        print "# agora: local development and CI, trust local TCP connections"
        print "host    all             all             127.0.0.1/32            trust"
        print "host    all             all             ::1/128                 trust"
        done = 1
      }
      { print }
      END {
        if (!done) {
          print "host    all             all             127.0.0.1/32            trust"
          print "host    all             all             ::1/128                 trust"
        }
      }' "$hba" >"$tmp"
    as_root cp "$tmp" "$hba"
    rm -f "$tmp"
  fi

  local conf="$dir/conf.d/agora.conf"
  if [ -d "$dir/conf.d" ] && grep -Eq "^[[:space:]]*include_dir[[:space:]]*=[[:space:]]*'conf\.d'" "$dir/postgresql.conf"; then
    if [ ! -f "$conf" ]; then
      say "postgresql: listening on 127.0.0.1 and ::1 ($conf)"
      printf "# agora: local development and CI\nlisten_addresses = '127.0.0.1,::1'\n" |
        as_root tee "$conf" >/dev/null
    fi
  else
    # No conf.d: the Debian default (listen_addresses 'localhost') is kept;
    # check it is not switched off.
    if grep -Eq "^[[:space:]]*listen_addresses[[:space:]]*=[[:space:]]*''" "$dir/postgresql.conf"; then
      die "postgresql: listen_addresses is empty in $dir/postgresql.conf; set it to '127.0.0.1'"
    fi
  fi
}

pg_start() {
  local ver=$1 name=$2
  say "postgresql: starting cluster $ver/$name"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" restart ||
    die "postgresql: could not start cluster $ver/$name (see /var/log/postgresql/postgresql-$ver-$name.log)"
}

pg_wait() {
  wait_for postgresql pg_answers ||
    die "postgresql: not answering on $PG_HOST:$PG_PORT after ${DEADLINE_SECONDS}s ($1)"
}

ensure_postgresql() {
  if pg_answers; then
    say "postgresql already running on $PG_HOST:$PG_PORT"
    return
  fi

  local cluster ver name
  if pg_installed; then
    read -r ver name < <(pg_cluster)
    pg_start "$ver" "$name"
    pg_wait "started cluster $ver/$name"
    say "postgresql started on $PG_HOST:$PG_PORT (cluster $ver/$name)"
    return
  fi

  apt_install postgresql
  cluster=$(pg_cluster)
  if [ -z "$cluster" ]; then
    # Server installed but no cluster (e.g. create_main_cluster = false).
    ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$ver" ] || die "postgresql: installed, but no server found under /usr/lib/postgresql"
    say "postgresql: creating cluster $ver/main on port $PG_PORT"
    as_root pg_createcluster "$ver" main --port "$PG_PORT" ||
      die "postgresql: pg_createcluster $ver main failed"
    cluster="$ver main"
  fi
  read -r ver name <<<"$cluster"
  pg_configure "$ver" "$name"
  # The package may have started the cluster already (before our settings):
  # restart it so that pg_hba.conf and listen_addresses are in force.
  if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" status >/dev/null 2>&1; then
    say "postgresql: restarting cluster $ver/$name with the new settings"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" restart ||
      die "postgresql: could not restart cluster $ver/$name"
  else
    pg_start "$ver" "$name"
  fi
  pg_wait "installed and started cluster $ver/$name"
  say "postgresql installed and started on $PG_HOST:$PG_PORT (cluster $ver/$name)"
}

ensure_database() {
  local db=$1 found
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  found=$(psql -X -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" </dev/null) ||
    die "postgresql: cannot connect as $PG_USER to $PG_HOST:$PG_PORT (is trust auth or PGPASSWORD set up?)"
  if [ "$found" = "1" ]; then
    say "database $db already exists"
  else
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$db" </dev/null ||
      die "postgresql: createdb $db failed"
    say "database $db created"
  fi
}

# ------------------------------------------------------------------ Redis

redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
  else
    local reply
    reply=$( (exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" &&
      printf 'PING\r\n' >&3 &&
      IFS= read -r -t 2 line <&3 &&
      printf '%s' "$line") 2>/dev/null || true)
    [ "${reply%$'\r'}" = "+PONG" ]
  fi
}

redis_version() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" info server 2>/dev/null |
      sed -n 's/^redis_version:\([0-9.]*\).*/\1/p'
  fi
}

redis_check_version() {
  local v
  v=$(redis_version)
  if [ -n "$v" ] && [ "${v%%.*}" -lt 7 ] 2>/dev/null; then
    say "warning: redis $v answers on $REDIS_HOST:$REDIS_PORT; Agora expects Redis 7 or newer"
  fi
  [ -z "$v" ] || printf ' (redis %s)' "$v"
}

redis_start() {
  local dir=/var/lib/redis logdir=/var/log/redis
  if [ "$(id -u)" -ne 0 ] && ! { mkdir -p "$dir" "$logdir" 2>/dev/null && [ -w "$dir" ] && [ -w "$logdir" ]; }; then
    # Not root and the system directories are not ours: Redis keeps nothing
    # on disk here anyway, so run it from a private directory.
    dir="${TMPDIR:-/tmp}/agora-redis-$(id -u)"
    logdir="$dir"
  fi
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$dir" "$logdir"
  else
    mkdir -p "$dir" "$logdir" 2>/dev/null || die "redis: cannot create $dir"
  fi
  say "redis: starting redis-server on $REDIS_HOST:$REDIS_PORT (log $logdir/agora.log)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$dir" --logfile "$logdir/agora.log" ||
    die "redis: redis-server failed to start (see $logdir/agora.log)"
}

redis_wait() {
  wait_for redis redis_answers ||
    die "redis: not answering on $REDIS_HOST:$REDIS_PORT after ${DEADLINE_SECONDS}s ($1)"
}

ensure_redis() {
  if redis_answers; then
    say "redis already running on $REDIS_HOST:$REDIS_PORT$(redis_check_version)"
    return
  fi

  if command -v redis-server >/dev/null 2>&1; then
    redis_start
    redis_wait "started redis-server"
    say "redis started on $REDIS_HOST:$REDIS_PORT$(redis_check_version)"
    return
  fi

  apt_install redis-server
  # The package may have started its own server already.
  if ! redis_answers; then
    redis_start
  fi
  redis_wait "installed and started redis-server"
  say "redis installed and started on $REDIS_HOST:$REDIS_PORT$(redis_check_version)"
}

# --------------------------------------------------------------- Chromium

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    say "chromium already installed at /usr/bin/chromium"
    return
  fi
  say "chromium: /usr/bin/chromium missing, installing Debian package chromium"
  apt_install chromium
  [ -x /usr/bin/chromium ] ||
    die "chromium: package installed but /usr/bin/chromium is still missing"
  say "chromium installed at /usr/bin/chromium"
}

# ------------------------------------------------------------------- main

ensure_postgresql
ensure_redis
for db in ${databases[@]+"${databases[@]}"}; do
  ensure_database "$db"
done
if [ "$want_chromium" -eq 1 ]; then
  ensure_chromium
fi
