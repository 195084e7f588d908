#!/bin/sh
# cpucompare.sh ROUNDS COMMIT... — thread CPU time of bench's kernels at each
# commit, interleaved (README.md, "Engine seam (issue 10): before and
# after"). Builds scripts/cpudrv against a worktree of each commit under
# $WORK (default /tmp/ferry-cpucompare), runs every build once per round,
# the order rotated every round, and prints per kernel and configuration
# the median over rounds of each round's median (ms), the minimum over
# rounds in parentheses, and each commit's ratio of medians to the first
# commit's. Run it from bench/.
set -e
rounds=$1
shift
commits="$*"
work=${WORK:-/tmp/ferry-cpucompare}
here=$(pwd)
mkdir -p "$work"
for c in $commits; do
	[ -d "$work/src-$c" ] || git worktree add --quiet --detach "$work/src-$c" "$c" >/dev/null
	mkdir -p "$work/drv-$c"
	cp scripts/cpudrv/main.go "$work/src-$c/go.sum" "$work/drv-$c/"
	printf 'module cpudrv\n\n%s\n\nrequire github.com/ferryvm/ferry v0.0.0\n\nreplace github.com/ferryvm/ferry => %s\n' \
		"$(grep '^go ' "$work/src-$c/go.mod")" "$work/src-$c" >"$work/drv-$c/go.mod"
	(cd "$work/drv-$c" && GOFLAGS=-mod=mod go build -o "$work/cpudrv-$c" .)
done
rm -f "$work"/r*-*.txt
n=$#
r=0
while [ $r -lt "$rounds" ]; do
	i=0
	while [ $i -lt $n ]; do
		# the (r+i)-th commit, so that each round starts with the next one
		c=$(echo $commits | cut -d' ' -f$(((r + i) % n + 1)))
		"$work/cpudrv-$c" -dir "$here/kernels" >"$work/r$r-$c.txt"
		i=$((i + 1))
	done
	r=$((r + 1))
done
for c in $commits; do
	for f in "$work"/r*-"$c".txt; do sed "s/^/$c /" "$f"; done
done | awk -v order="$commits" '
	# fields: commit kernel config cpu <ns> wall <ns>
	{ k = $2 " " $3; v[$1, k, ++cnt[$1, k]] = $5 / 1e6; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
	function med(c, k,   m, i, j, t, a) {
		m = cnt[c, k]
		for (i = 1; i <= m; i++) a[i] = v[c, k, i]
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		mn = a[1]
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		nc = split(order, cs, " ")
		printf "%-26s", "kernel config"
		for (i = 1; i <= nc; i++) printf " %18s", cs[i]
		for (i = 2; i <= nc; i++) printf " %8s", "/" substr(cs[1], 1, 7)
		printf "\n"
		for (x = 1; x <= nk; x++) {
			k = keys[x]
			printf "%-26s", k
			for (i = 1; i <= nc; i++) { m[i] = med(cs[i], k); printf " %9.2f (%6.2f)", m[i], mn }
			for (i = 2; i <= nc; i++) { printf " %8.3f", m[i] / m[1]; lg[i] += log(m[i] / m[1]) }
			printf "\n"
		}
		printf "%-26s", "geometric mean"
		for (i = 1; i <= nc; i++) printf " %18s", ""
		for (i = 2; i <= nc; i++) printf " %8.3f", exp(lg[i] / nk)
		printf "\n"
	}'
