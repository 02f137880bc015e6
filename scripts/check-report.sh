#!/usr/bin/env bash
# Renders DIR/index.html in headless Chromium and checks that every chart written to
# DIR/charts/ is on the page: a <figure class="chart" data-chart="NAME"> holding an <svg> (or
# <img>) laid out at a non-zero size, whose text the browser could draw.
#
#   scripts/check-report.sh DIR            # exit 0: every chart is there; 1: something is not
#   SCREENSHOT=shot.png scripts/check-report.sh DIR   # also save a screenshot of the page top
#
# Needs Debian's chromium (apt-get install -y chromium fonts-dejavu-core). The page itself has
# no script: the check runs on a copy with a small probe appended, which reports each figure's
# laid-out size into the DOM that --dump-dom prints.
set -euo pipefail

dir=${1:?usage: scripts/check-report.sh DIR}
html="$dir/index.html"
if [ ! -s "$html" ]; then
    echo "check-report: $html is missing or empty" >&2
    exit 1
fi
browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$(command -v "$b")
        break
    fi
done
if [ -z "$browser" ]; then
    echo "check-report: no chromium found (apt-get install -y chromium fonts-dejavu-core)" >&2
    exit 1
fi

# The charts the report wrote: each must be on the page.
expected=$(find "$dir/charts" -maxdepth 1 -name '*.svg' -printf '%f\n' 2>/dev/null | sed 's/\.svg$//' | LC_ALL=C sort)
if [ -z "$expected" ]; then
    echo "check-report: no charts in $dir/charts" >&2
    exit 1
fi

work=$(mktemp -d)
probe="$dir/.check-report-$$.html"
trap 'rm -rf "$work" "$probe"' EXIT

# The probe: one line per figure, "NAME KIND WIDTH HEIGHT TEXTS DRAWN_TEXTS".
{
    cat "$html"
    cat <<'EOF'
<script>
(function () {
  var lines = [];
  document.querySelectorAll('figure.chart').forEach(function (f) {
    var el = f.querySelector('svg, img');
    var kind = 'none', w = 0, h = 0, texts = 0, drawn = 0;
    if (el) {
      var r = el.getBoundingClientRect();
      kind = el.tagName.toLowerCase();
      w = Math.round(r.width);
      h = Math.round(r.height);
      if (kind === 'img' && !(el.complete && el.naturalWidth > 0)) { w = 0; h = 0; }
      if (kind === 'svg') {
        el.querySelectorAll('text').forEach(function (t) {
          texts++;
          try { if (t.getBBox().width > 0) drawn++; } catch (e) {}
        });
      }
    }
    lines.push([f.getAttribute('data-chart') || '?', kind, w, h, texts, drawn].join(' '));
  });
  var pre = document.createElement('pre');
  pre.id = 'check-report';
  pre.textContent = '\n' + lines.join('\n') + '\n';
  document.body.appendChild(pre);
})();
</script>
EOF
} > "$probe"

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --disable-dev-shm-usage --user-data-dir="$work/profile" --window-size=1400,3000)
if ! timeout 180 "$browser" "${flags[@]}" --dump-dom "file://$(realpath "$probe")" \
    > "$work/dom.html" 2> "$work/stderr"; then
    echo "check-report: chromium failed:" >&2
    tail -20 "$work/stderr" >&2
    exit 1
fi
if [ -n "${SCREENSHOT:-}" ]; then
    timeout 180 "$browser" "${flags[@]}" --screenshot="$(realpath -m "$SCREENSHOT")" \
        "file://$(realpath "$html")" > /dev/null 2>&1 || echo "check-report: screenshot failed" >&2
fi

report=$(sed -n '/<pre id="check-report">/,/<\/pre>/p' "$work/dom.html" | sed '1d;$d')
if [ -z "$report" ]; then
    echo "check-report: the page did not render (no probe output)" >&2
    exit 1
fi

status=0
count=0
for name in $expected; do
    line=$(printf '%s\n' "$report" | awk -v n="$name" '$1 == n' | head -1)
    if [ -z "$line" ]; then
        echo "check-report: chart $name is not on the page" >&2
        status=1
        continue
    fi
    read -r _ kind w h texts drawn <<< "$line"
    if [ "$kind" = none ]; then
        echo "check-report: chart $name has no <svg> or <img>" >&2
        status=1
    elif [ "$w" -le 0 ] || [ "$h" -le 0 ]; then
        echo "check-report: chart $name is laid out at ${w}x${h}" >&2
        status=1
    elif [ "$kind" = svg ] && { [ "$texts" -eq 0 ] || [ "$drawn" -lt "$texts" ]; }; then
        echo "check-report: chart $name: $drawn of $texts text elements drawn" >&2
        status=1
    else
        count=$((count + 1))
    fi
done
figures=$(printf '%s\n' "$report" | grep -c . || true)
total=$(printf '%s\n' "$expected" | grep -c .)
if [ "$status" -eq 0 ]; then
    echo "check-report: all $count charts rendered in $html ($figures figures on the page)"
else
    echo "check-report: $count of $total charts rendered in $html" >&2
fi
exit "$status"
