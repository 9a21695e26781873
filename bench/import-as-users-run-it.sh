#!/usr/bin/env bash
# The import as a user runs it, beside DuckDB's read_json_auto, each as a whole process, alternating rounds:
#   out/madflog/madflog -NoProfile -Command "Import-MadfLog -LiteralPath <logs> -Database <new store>"
#     (pwsh with the module: its ReadyToRun copies and the host's runtime settings, start-up included)
#   pwsh -NoProfile -Command "Import-Module out/MadfLog; Import-MadfLog ..." (the repo's pinned pwsh, .NET's defaults)
#   MadfLog.Bench.DuckDb import N (DuckDB loading the same files into a new file, its process start included)
# Prints wall and CPU seconds and peak resident memory per run (GNU time), then the medians.
# Usage: bench/import-as-users-run-it.sh [N=1000000] [rounds=3]
# Needs: `dotnet build MadfLog.sln -c Release`, `dotnet build bench/MadfLog.Bench.DuckDb -c Release`, and the logs of
# `bench import N` in $TMPDIR/madflog-bench-import/realistic-v3-N (the bench writes them).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
rounds=${2:-3}
tmp=${TMPDIR:-/tmp}
logs="$tmp/madflog-bench-import/realistic-v3-$n"
[ -f "$logs.complete" ] || { echo "$logs is missing: run 'dotnet run -c Release --project bench/MadfLog.Bench -- import $n' first" >&2; exit 1; }
host=./out/madflog/madflog
duck=bench/MadfLog.Bench.DuckDb/bin/Release/net10.0/MadfLog.Bench.DuckDb.dll
[ -x "$host" ] || { echo "$host is missing: dotnet build MadfLog.sln -c Release" >&2; exit 1; }
[ -f "$duck" ] || { echo "$duck is missing: dotnet build bench/MadfLog.Bench.DuckDb -c Release" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2; exit 1; }

store="$tmp/madflog-import-as-users-$n.db"
results=$(mktemp)
trap 'rm -f "$results" "$store" "$store-wal" "$store-shm"' EXIT
run() { # name, command...
  local name=$1; shift
  local t; t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null
  read -r wall user sys kb <"$t"; rm -f "$t"
  printf '%-8s wall %6.2f s  CPU %6.2f s  peak %5d MB  (load %s)\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((kb / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$name $wall $(echo "$user + $sys" | bc) $((kb / 1024))" >>"$results"
}
echo "import of $n realistic events ($logs), $rounds rounds, $(date -u +%FT%TZ)"
for r in $(seq "$rounds"); do
  rm -f "$store" "$store-wal" "$store-shm"
  run madflog "$host" -NoProfile -NonInteractive -Command "Import-MadfLog -LiteralPath '$logs' -Database '$store' | Out-Null"
  rm -f "$store" "$store-wal" "$store-shm"
  run pwsh dotnet tool run pwsh -NoProfile -NonInteractive -Command "Import-Module ./out/MadfLog/MadfLog.psd1; Import-MadfLog -LiteralPath '$logs' -Database '$store' | Out-Null"
  run DuckDB dotnet "$duck" import "$n"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for name in madflog pwsh DuckDB; do
  printf '%-8s median: wall %s s, CPU %s s, peak %s MB\n' "$name" \
    "$(awk -v n=$name '$1 == n {print $2}' "$results" | median)" \
    "$(awk -v n=$name '$1 == n {print $3}' "$results" | median)" \
    "$(awk -v n=$name '$1 == n {print $4}' "$results" | median)"
done
