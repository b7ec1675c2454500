#!/usr/bin/env bash
# Contact-tracing scale benchmark, end to end: generates the synthetic outbreak,
# then per backend imports the four files (rows/s, peak RSS), re-imports flights
# (must change nothing), measures `trace` latency (sim trace-bench), traces every
# case with close-only rules to build the chains graph, and times `chains --json`.
#
# Usage (from the repository root, after `cargo build --release -p lazaret`):
#   bench/trace/run.sh                      # SQLite and PostgreSQL, full size
#   BACKENDS=sqlite bench/trace/run.sh      # one backend
#   SIZE=small bench/trace/run.sh           # 100k residents, 1k flights, 100k rides
# Environment: LAZARET (binary, default target/release/lazaret), WORK (scratch
# folder, default /tmp/lazaret-trace-bench), PG_URL (server to create and drop
# a scratch database on, default postgres://postgres@127.0.0.1:5432).
set -euo pipefail

BIN=${LAZARET:-target/release/lazaret}
WORK=${WORK:-/tmp/lazaret-trace-bench}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BACKENDS=${BACKENDS:-"sqlite postgres"}
SIZE=${SIZE:-full}
CHAIN_RUNS=${CHAIN_RUNS:-3}

case $SIZE in
  full) SIZES=(--residents 1000000 --flights 10000 --rides 1000000) ;;
  small) SIZES=(--residents 100000 --flights 1000 --rides 100000) ;;
  *) echo "SIZE must be full or small" >&2; exit 2 ;;
esac
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lazaret)" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 2; }

DATA=$WORK/data-$SIZE
mkdir -p "$WORK"
START=$(date +%s)
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -s "$DATA/tests.csv" ]; then
  "$BIN" sim generate --out "$DATA" "${SIZES[@]}" >/dev/null
fi
POLICY=$WORK/close-only.toml
printf '[flight]\ncabin_notify = false\n\n[residence]\nbuilding_notify = false\n' >"$POLICY"

# Runs a command (its log lines go to $WORK/stderr.log); leaves
# "<wall s> <peak KB> <CPU s>" in $WORK/time.
timed() {
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" 2>>"$WORK/stderr.log"
  read -r w k u s <"$WORK/time"
  echo "$w $k $(jq -n "$u + $s")" >"$WORK/time"
}

SUMMARY=()
for backend in $BACKENDS; do
  case $backend in
    sqlite)
      rm -f "$WORK"/bench.db*
      DB="sqlite://$WORK/bench.db" ;;
    postgres)
      NAME=trace_bench_$$
      psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $NAME" -c "CREATE DATABASE $NAME"
      DB="$PG_URL/$NAME" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "## $backend"
  for kind in residences flights rides tests; do
    out=$(timed "$BIN" --db "$DB" import "$kind" "$DATA/$kind.csv" --json)
    read -r secs kb cpu <"$WORK/time"
    rows=$(jq .rows <<<"$out")
    line=$(printf '%-8s import %-10s %9s rows %7.1f s %9.0f rows/s %5d MB peak, %6.1f CPU s (client)' \
      "$backend" "$kind" "$rows" "$secs" "$(jq -n "$rows / $secs")" $((kb / 1024)) "$cpu")
    echo "$line"; SUMMARY+=("$line")
  done
  out=$(timed "$BIN" --db "$DB" import flights "$DATA/flights.csv" --json)
  read -r secs kb cpu <"$WORK/time"
  line=$(printf '%-8s re-import flights: changed %s, %.1f s' "$backend" "$(jq .changed <<<"$out")" "$secs")
  echo "$line"; SUMMARY+=("$line")

  out=$("$BIN" --db "$DB" sim trace-bench --sample 2000 --json 2>>"$WORK/stderr.log")
  line=$(jq -r --arg b "$backend" '"\($b|.+"        "|.[0:8]) trace default rules, \(.traced) cases: p50 \(.ms.p50*100|round/100) ms, p90 \(.ms.p90*100|round/100) ms, p99 \(.ms.p99*100|round/100) ms, max \(.ms.max*10|round/10) ms, \(.contacts_per_case*10|round/10) contacts/case"' <<<"$out")
  echo "$line"; SUMMARY+=("$line")
  # --store: this pass stores the contacts, which the chains runs below read.
  out=$("$BIN" --db "$DB" sim trace-bench --policy "$POLICY" --store --json 2>>"$WORK/stderr.log")
  line=$(jq -r --arg b "$backend" '"\($b|.+"        "|.[0:8]) trace close-only, all \(.traced) cases: p50 \(.ms.p50*100|round/100) ms, p99 \(.ms.p99*100|round/100) ms, \(.wall_seconds|round) s"' <<<"$out")
  echo "$line"; SUMMARY+=("$line")

  for i in $(seq 1 "$CHAIN_RUNS"); do
    timed "$BIN" --db "$DB" chains --json >"$WORK/chains-$backend.json"
    read -r secs kb cpu <"$WORK/time"
    line=$(printf '%-8s chains run %d: %.2f s, %d MB peak, %s cases, %s edges, %s chains' "$backend" "$i" \
      "$secs" $((kb / 1024)) "$(jq .cases "$WORK/chains-$backend.json")" \
      "$(jq .contact_edges "$WORK/chains-$backend.json")" "$(jq '.chains | length' "$WORK/chains-$backend.json")")
    echo "$line"; SUMMARY+=("$line")
  done
  if [ "$backend" = postgres ]; then
    psql -q "$PG_URL/postgres" -c "DROP DATABASE $NAME"
  fi
done

echo
echo "# summary ($SIZE size, $(( $(date +%s) - START )) s in all, load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${SUMMARY[@]}"
