#!/bin/bash
# bench-subscribe.sh BENCH [OUT_PNG] [ARGS...] -- runs bench-subscribe (ARGS passed on; BENCH
# may also be the saved output of a run, which is then only plotted),
# prints its figures and plots the metadata spread (p50 and max time until all N members saw
# a change, per backend, against N) with gnuplot into OUT_PNG (default
# docs/subscribe-metadata.png). Without gnuplot only the figures are printed.
set -eu
BENCH=${1:?usage: bench-subscribe.sh BENCH [OUT_PNG] [ARGS...]}
OUT=${2:-docs/subscribe-metadata.png}
shift $(($# >= 2 ? 2 : 1))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-bench-subscribe-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -x "$BENCH" ] && [ ! -d "$BENCH" ]; then
    "$BENCH" "$@" | tee "$WORK/out.txt"
else # the saved output of an earlier run: plot it again
    cp "$BENCH" "$WORK/out.txt"
fi
for b in centralized swim; do
    awk -v b="$b" '$1 == "metadata" && $2 == b && $0 ~ /p50/ {
        n = $3; sub("N=", "", n);
        for (i = 1; i <= NF; i++) { if ($i == "p50") p = $(i + 1); if ($i == "max") m = $(i + 1) }
        print n, p, m }' "$WORK/out.txt" >"$WORK/$b.dat"
done
command -v gnuplot >/dev/null || { echo "gnuplot not found: no plot"; exit 0; }
gnuplot <<GP
set terminal pngcairo size 800,480
set output "$OUT"
set title "Run-time metadata: time until every member saw a change (bench-subscribe)"
set xlabel "members N"
set ylabel "ms"
set logscale xy
set key right bottom
set grid
plot "$WORK/centralized.dat" using 1:2 with linespoints title "centralized p50", \
     "$WORK/centralized.dat" using 1:3 with linespoints title "centralized max", \
     "$WORK/swim.dat" using 1:2 with linespoints title "swim p50", \
     "$WORK/swim.dat" using 1:3 with linespoints title "swim max"
GP
echo "plot: $OUT"
