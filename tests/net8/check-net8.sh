#!/usr/bin/env bash
# The built module's engine on .NET 8 (PowerShell 7.4's runtime; this machine runs pwsh 7.6.9 on .NET 10 only):
# publishes tests/net8 as a self-contained .NET 8 app, runs it once with the module's IL (out/MadfLog/dependencies)
# and once with this platform's ReadyToRun copies (dependencies/linux-x64, compiled for .NET 10), and expects the
# same answers from both. Exit 0 passed, 1 failed, 77 skipped (not Linux x64, or .NET 8's runtime pack not to be had).
# Run after `dotnet build MadfLog.sln -c Release`.
set -uo pipefail
cd "$(dirname "$0")/../.."
deps=out/MadfLog/dependencies
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then echo "net8 check: skipped (runs on Linux x64 only)"; exit 77; fi
if [ ! -f "$deps/MadfLog.Engine.dll" ]; then echo "net8 check: $deps/MadfLog.Engine.dll missing: build first" >&2; exit 1; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! dotnet publish tests/net8/Net8Check.csproj -c Release -o "$work/pub" > "$work/publish.log" 2>&1; then
  if grep -q "NU1101\|NU1102\|Unable to find package" "$work/publish.log"; then
    echo "net8 check: skipped (.NET 8's runtime pack could not be restored)"; exit 77
  fi
  cat "$work/publish.log" >&2; echo "net8 check: the .NET 8 app does not build" >&2; exit 1
fi
status=0
for kind in il r2r; do
  cp -r "$work/pub" "$work/$kind"
  cp -n "$deps"/*.dll "$work/$kind/"                       # -n: the app's own .NET 8 framework files stay
  [ "$kind" = r2r ] && cp "$deps"/linux-x64/*.dll "$work/$kind/"
  cp "$deps/linux-x64/e_sqlite3.so" "$work/$kind/libe_sqlite3.so"
  if ! "$work/$kind/Net8Check" examples/logs > "$work/$kind.out" 2> "$work/$kind.err"; then
    cat "$work/$kind.err" >&2; echo "net8 check: the $kind run failed" >&2; status=1
  fi
  echo "net8 check, $kind: $(cat "$work/$kind.err")"
done
[ "$status" -eq 0 ] || exit 1
if ! grep -q '^imported [1-9][0-9]* events' "$work/il.out" || ! grep -q '^pattern ' "$work/il.out"; then
  cat "$work/il.out" >&2; echo "net8 check: no events or no patterns on .NET 8" >&2; exit 1
fi
if ! diff "$work/il.out" "$work/r2r.out" >&2; then echo "net8 check: the ReadyToRun copies answer differently on .NET 8" >&2; exit 1; fi
head -n 3 "$work/il.out"
echo "net8 check: passed (the same answers from the IL and the ReadyToRun copies on .NET 8)"
