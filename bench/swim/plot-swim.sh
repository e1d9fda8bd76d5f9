#!/bin/sh
# plot-swim.sh DATA OUT.png [ML_LABEL] -- the two plots of docs/benchmarks.md
# "SWIM at scale" (issue #17) from a whitespace table (lines starting with #
# are comments):
#   N  base_Bps  ours_Bps  ml_Bps  crash_s  kill_s  ml_crash_s  [ours_after_Bps]
# (settled bytes per member per second; detection by all, in seconds; "-" =
# not measured; the optional eighth column: ours in the window right after
# convergence, the reference harness's window). ML_LABEL names the
# memberlist run (default "memberlist").
# Needs gnuplot; prints a message and exits 0 without it.
set -e
data=$1
out=$2
ml=${3:-memberlist}
if [ -z "$data" ] || [ -z "$out" ]; then
  echo "usage: $0 DATA OUT.png" >&2
  exit 2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "gnuplot not installed: no plot written"
  exit 0
fi
cols=$(awk '!/^#/ && NF { print NF; exit }' "$data")
gnuplot <<EOF
set terminal pngcairo size 1100,420 font ",10"
set output "$out"
set datafile missing "-"
set multiplot layout 1,2
set logscale x 2
set xlabel "N (members)"
set key top left
set grid
set title "bytes sent per member per second (log scale)"
set ylabel "B/s"
set logscale y
if ($cols >= 8) {
  plot "$data" using 1:2 with linespoints title "swim before #17", \
       "$data" using 1:3 with linespoints title "swim now, settled", \
       "$data" using 1:8 with linespoints title "swim now, right after convergence", \
       "$data" using 1:4 with linespoints title "$ml (right after convergence)"
} else {
  plot "$data" using 1:2 with linespoints title "swim before #17", \
       "$data" using 1:3 with linespoints title "swim now (compact wire, digest anti-entropy)", \
       "$data" using 1:4 with linespoints title "$ml"
}
unset logscale y
set title "crash detected by every survivor"
set ylabel "s"
plot "$data" using 1:5 with linespoints title "swim, in-process crash (connections stay open)", \
     "$data" using 1:6 with linespoints title "swim, SIGKILL of the member's process", \
     "$data" using 1:7 with linespoints title "$ml"
unset multiplot
EOF
echo "wrote $out"
