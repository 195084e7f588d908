#!/bin/sh
# pollcost.sh: measures what Ferry's pause-point polling costs: the
# default build against a build without any polling.
#
# Ferry's pause points are armed (docs/interpreter.md): while no one asks
# for a pause, loop back-edges are plain branches and calls start past the
# entry poll, but the poll instructions are still there (a loop header's
# opPoll runs once each time the loop is entered) and arming can rewrite
# the code at any time. The "without" build is a copy of the tree (without
# .git) whose interp.Compile lowers with noPoll: no poll instructions at
# all, so it can be neither paused nor cancelled. The script builds
# cmd/ferrybench against the original tree and against the copy, runs the
# two alternately ROUNDS times on every kernel (ferry runtime only), and
# prints per kernel the median and the minimum time of each build and
# their ratios. Nothing outside the temporary directory is changed.
#
#   cd bench && sh scripts/pollcost.sh [ROUNDS] [extra ferrybench flags]
set -eu
rounds=${1:-5}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")/.." && pwd)   # bench/
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tree"
(cd "$root" && tar --exclude=.git -cf - .) | (cd "$tmp/tree" && tar -xf -)
lower_go="$tmp/tree/internal/interp/lower.go"
sed -i 's/^func Compile(m \*wasm.Module) (\*Compiled, error) { return compile(m, false) }$/func Compile(m *wasm.Module) (*Compiled, error) { return compile(m, true) }/' "$lower_go"
if ! grep -q 'return compile(m, true) }$' "$lower_go"; then
	echo "pollcost: could not switch the copy's interp.Compile to noPoll" >&2
	exit 1
fi
echo "the copy lowers without poll instructions (interp.compile noPoll)" >&2
(cd "$here" && go build -o "$tmp/with" ./cmd/ferrybench)
(cd "$tmp/tree/bench" && go build -o "$tmp/without" ./cmd/ferrybench)
echo "load before: $(cat /proc/loadavg 2>/dev/null || uptime)" >&2
i=1
while [ "$i" -le "$rounds" ]; do
	for b in with without; do
		"$tmp/$b" -runtimes ferry -programs none -n 5 "$@" |
			awk -v b="$b" 'NF == 4 && $4 ~ /(ms|s|µs)$/ { print b, $1, $4 }' >>"$tmp/times"
	done
	i=$((i + 1))
done
echo "load after: $(cat /proc/loadavg 2>/dev/null || uptime)" >&2
# Times to milliseconds, then median and minimum per build and kernel.
awk '
function ms(t) { if (t ~ /µs$/) return substr(t, 1, length(t)-2) / 1000; if (t ~ /ms$/) return substr(t, 1, length(t)-2) + 0; return substr(t, 1, length(t)-1) * 1000 }
{ k = $2; v[$1, k, ++c[$1, k]] = ms($3); if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
function med(b, k,   n, i, j, t, a) {
	n = c[b, k]; for (i = 1; i <= n; i++) a[i] = v[b, k, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function mn(b, k,   i, m) { m = v[b, k, 1]; for (i = 2; i <= c[b, k]; i++) if (v[b, k, i] < m) m = v[b, k, i]; return m }
END {
	printf "%12s %14s %14s %8s %14s %14s %8s\n", "kernel", "median checks", "median none", "ratio", "min checks", "min none", "ratio"
	for (i = 1; i <= nk; i++) {
		k = order[i]; a = med("with", k); b = med("without", k); x = mn("with", k); y = mn("without", k)
		printf "%12s %12.2fms %12.2fms %8.3f %12.2fms %12.2fms %8.3f\n", k, a, b, a/b, x, y, x/y
		lm += log(a/b); lx += log(x/y)
	}
	printf "geometric mean over %d kernels: median ratio %.3f, min ratio %.3f\n", nk, exp(lm/nk), exp(lx/nk)
	print "(ratio > 1: the poll checks cost time; each value is over the per-round medians of 5 calls)"
}' "$tmp/times"
