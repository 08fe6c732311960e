#!/usr/bin/env bash
# Renders a run's report.html, and a comparison page, in headless Chromium at 1400 px
# wide and saves screenshots into docs/ (report-top.png: the first screen;
# report-spectra.png: the latency spectra; compare.png: the comparison page).
#
#   scripts/screenshots.sh RESULTS_DIR [OLD_RESULTS_DIR]
#
# RESULTS_DIR holds a results.json (e.g. docs/sample-run). The report is regenerated
# from it with this checkout's `quartet report`, so the screenshots show the current
# report. With OLD_RESULTS_DIR the comparison page is `quartet compare OLD NEW`
# (e.g. the previous sample run: mkdir /tmp/old && git show
# HEAD:docs/sample-run/results.json > /tmp/old/results.json); without it, the run is
# compared with itself (every change within the noise).
# Needs chromium (Debian: apt-get install -y chromium). Nothing is fetched: the pages
# are self-contained.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 RESULTS_DIR [OLD_RESULTS_DIR]" >&2
    exit 2
fi
run_dir=$(cd "$1" && pwd)
old_dir=$(cd "${2:-$1}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
docs="$root/docs"
for f in "$run_dir/results.json" "$old_dir/results.json"; do
    [[ -f $f ]] || { echo "$0: no $f" >&2; exit 2; }
done
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
    echo "$0: no chromium found (Debian: apt-get update && apt-get install -y chromium)" >&2
    exit 2
fi

cd "$root"
cargo build -q -p bench --bin quartet
quartet="$root/target/debug/quartet"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Paths inside the checkout are given relative to it, as the pages then name them.
new_json="${run_dir#"$root"/}/results.json"
old_json="${old_dir#"$root"/}/results.json"
"$quartet" report "$new_json" --format html > "$work/report.html"
"$quartet" compare "$old_json" "$new_json" --html "$work/compare.html" > "$work/compare.txt"

shot() { # PAGE PNG HEIGHT [FRAGMENT]
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=1400,"$3" --screenshot="$2" "file://$1${4:-}" 2>/dev/null
    [[ -s $2 ]] || { echo "$0: chromium wrote no $2" >&2; exit 1; }
    echo "wrote ${2#"$root"/}"
}

# The spectra start below the verdict: render a copy of the page that opens there.
sed 's|<header>|<style>header,#verdict,#failures{display:none}</style><header>|' \
    "$work/report.html" > "$work/spectra.html"

shot "$work/report.html" "$docs/report-top.png" 2000
shot "$work/spectra.html" "$docs/report-spectra.png" 1400
shot "$work/compare.html" "$docs/compare.png" 2000
