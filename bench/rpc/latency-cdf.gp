# Latency distributions of bench-rpc: gnuplot -e "dir='DIR'; out='FILE.png'[; title='...']" latency-cdf.gp
# DIR holds the files written by `bench-rpc -d DIR` (sorted samples, one per line).
if (!exists("dir")) dir = "."
if (!exists("out")) out = "rpc-latency.png"
if (!exists("title")) title = "Round-trip latency CDF: frt RPC vs raw socket ping-pong (same run)"
set terminal pngcairo size 1000,420 font ",10"
set output out
set multiplot layout 1,2 title title
set logscale x
set xlabel "round trip (us)"
set ylabel "fraction of calls"
set yrange [0:1]
set key bottom right
set grid
n(f) = system("wc -l < ".f) + 0
cdf(t, k, b) = sprintf("%s/%s-%s-%s.dat", dir, t, k, b)
do for [t in "na+sm tcp"] {
  set title t
  # line counts once per file (calling n() per point would run wc per sample)
  n1 = n(cdf(t,"raw","1")); n2 = n(cdf(t,"rpc","0"))
  n3 = n(cdf(t,"raw","1024")); n4 = n(cdf(t,"rpc","1024"))
  plot cdf(t,"raw","1")    u 1:($0/n1) w l lw 2 title "raw 1 B", \
       cdf(t,"rpc","0")    u 1:($0/n2) w l lw 2 title "RPC empty", \
       cdf(t,"raw","1024") u 1:($0/n3) w l lw 2 dt 2 title "raw 1 KiB", \
       cdf(t,"rpc","1024") u 1:($0/n4) w l lw 2 dt 2 title "RPC 1 KiB"
}
unset multiplot
