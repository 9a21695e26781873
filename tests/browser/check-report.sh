#!/usr/bin/env bash
# Renders the HTML report of the bundled sample logs in headless Chromium and fails on console errors, missing
# charts or an empty page. --update-docs also refreshes docs/report-sample.png.
# Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium and it cannot be installed here).
set -uo pipefail
cd "$(dirname "$0")/../.."

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser check..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1
  browser=$(command -v chromium || true)
fi
if [ -z "$browser" ]; then
  echo "SKIPPED: browser check (Chromium is not installed and could not be installed)"
  exit 77
fi

host=out/madflog/madflog
[ -x "$host" ] || { echo "FAILED: $host is missing; build first (dotnet build MadfLog.sln -c Release)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$host" -Command "Import-MadfLog examples/logs -Database '$work/m.db' | Out-Null; Invoke-MadfRevision -Database '$work/m.db' -Since ([datetime]'2026-01-01') -NoImport -WarningAction SilentlyContinue | Out-Null; Get-MadfRule -Database '$work/m.db' -Status Proposed | Approve-MadfRule -Database '$work/m.db' -ClaudeMdPath '$work/CLAUDE.md' -EffectiveFrom ([DateTimeOffset]'2026-11-05T00:00:00Z').UtcDateTime -Confirm:\$false | Out-Null; Export-MadfReport -Database '$work/m.db' -Path '$work/report.html' | Out-Null" \
  || { echo "FAILED: could not produce the report"; exit 1; }

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars)
"$browser" "${flags[@]}" --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --dump-dom "file://$work/report.html" > "$work/dom.html" 2> "$work/console.log"
"$browser" "${flags[@]}" --user-data-dir="$work/profile2" --window-size=1200,4800 --screenshot="$work/report.png" "file://$work/report.html" > /dev/null 2>&1

problems=()
grep -q 'CONSOLE' "$work/console.log" && grep 'CONSOLE' "$work/console.log" | grep -qiE 'error|uncaught' && problems+=("console errors: $(grep CONSOLE "$work/console.log" | head -3)")
charts=$(grep -o '<svg class="madf-chart"' "$work/dom.html" | wc -l)
[ "$charts" -ge 4 ] || problems+=("expected at least 4 charts, found $charts")
grep -q '<polyline' "$work/dom.html" || problems+=("no chart lines were drawn")
text=$(sed -e 's/<[^>]*>//g' "$work/dom.html" | tr -s ' \n' | wc -c)
[ "$text" -gt 2000 ] || problems+=("the page is nearly empty ($text characters of text)")
for heading in "Trend" "Top error patterns" "Agents" "Bottlenecks" "Human interactions" "Rules" "Cost" "Sessions" "Tool failures" "Context pressure" "Storage"; do
  grep -q "<h2>$heading</h2>" "$work/dom.html" || problems+=("section '$heading' is missing")
done
grep -qE '<script|<link|src="http|url\(http' "$work/report.html" && problems+=("the report loads external resources or scripts")
# The loop's conclusions (the sample's rules took effect in its middle): rule verdicts with their control, the forecast (or why there is none) and its backtest, a priced cost.
grep -qE 'class="verdict [a-z]+"' "$work/dom.html" || problems+=("no rule verdict is shown")
grep -qE 'Control per 1,000 events' "$work/dom.html" || problems+=("the rules' control is not shown")
grep -qE 'Forecast next story error rate: [0-9.]+% \(95% interval|not enough stories' "$work/dom.html" || problems+=("no forecast (or 'not enough stories') is shown")
grep -qE 'list prices as of|Priced as' "$work/dom.html" || problems+=("the cost is not shown")
# Weeks in order on the week chart.
weeks=$(grep -o 'aria-label="Error rate per week".*' "$work/dom.html" | sed 's#</svg>.*##' | grep -oE '>[0-9]{4}-W[0-9]{2}<' | tr -d '<>')
[ "$weeks" = "$(printf '%s\n' $weeks | sort)" ] || problems+=("the weeks are not in order: $(echo $weeks)")
# Charts use the full width of the page.
width=$(grep -o 'svg.madf-chart{[^}]*}' "$work/report.html" | grep -c 'width:100%')
[ "$width" -ge 1 ] || problems+=("charts are not full width")
[ -s "$work/report.png" ] || problems+=("no screenshot was taken")

if [ ${#problems[@]} -gt 0 ]; then
  echo "FAILED: browser check"; for p in "${problems[@]}"; do echo "  - $p"; done
  exit 1
fi
if [ "${1:-}" = "--update-docs" ]; then cp "$work/report.png" docs/report-sample.png; echo "updated docs/report-sample.png"; fi
echo "PASSED: browser check ($charts charts, $text characters, no console errors)"
exit 0
