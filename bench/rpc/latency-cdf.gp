# Latency distributions of bench-rpc: gnuplot -e "dir='DIR'; out='FILE.png'" latency-cdf.gp
# DIR holds the files written by `bench-rpc -d DIR` (sorted samples, one per line).
if (!exists("dir")) dir = "."
if (!exists("out")) out = "rpc-latency.png"
set terminal pngcairo size 1000,420 font ",10"
set output out
set multiplot layout 1,2 title "Round-trip latency CDF: frt RPC vs raw socket ping-pong (same run)"
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
  plot cdf(t,"raw","1")    u 1:($0/n(cdf(t,"raw","1")))    w l lw 2 title "raw 1 B", \
       cdf(t,"rpc","0")    u 1:($0/n(cdf(t,"rpc","0")))    w l lw 2 title "RPC empty", \
       cdf(t,"raw","1024") u 1:($0/n(cdf(t,"raw","1024"))) w l lw 2 dt 2 title "raw 1 KiB", \
       cdf(t,"rpc","1024") u 1:($0/n(cdf(t,"rpc","1024"))) w l lw 2 dt 2 title "RPC 1 KiB"
}
unset multiplot
