# bench/expiry.gp: the mass expiry plot of BENCHMARKS.md — sessions removed
# per second against the share of the traffic's throughput kept meanwhile.
# Called by bench/report:
#   gnuplot -e "data='expiry.dat'; out='expiry.png'; duende=400" bench/expiry.gp
# expiry.dat (tab-separated): kind (fixed, idsess, duende, spring), name
# (the fixed pause, or the store), % of traffic kept, sessions/s.

set terminal pngcairo size 1000,640 font "sans,11"
set output out
set datafile separator "\t"
set title "Mass expiry under traffic: removal rate against the traffic kept"
set xlabel "traffic throughput kept during the removal (%)"
set ylabel "sessions removed per second"
set logscale y
set xrange [0:100]
set grid xtics ytics mytics lc rgb "#dddddd"
set key bottom left box font ",10"
is(k) = strcol(1) eq k

# The targets: 80% of the traffic kept, 10 times Duende's rate.
set arrow from 80, graph 0 to 80, graph 1 nohead lc rgb "#888888" dt 2
if (duende > 0) set arrow from graph 0, first 10 * duende to graph 1, first 10 * duende nohead lc rgb "#888888" dt 2

plot data using 3:(is("fixed") ? $4 : NaN) with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "idsess, fixed idsess.expire\\_batch\\_delay", \
     data using 3:(is("fixed") ? $4 : NaN):2 with labels offset 0,-1 font ",9" notitle, \
     data using 3:(is("idsess") ? $4 : NaN) with points pt 5 ps 2.2 lc rgb "#d62728" title "idsess, default pacing", \
     data using 3:(is("duende") ? $4 : NaN) with points pt 9 ps 2 lc rgb "#2ca02c" title "Duende EF cleanup", \
     data using 3:(is("spring") ? $4 : NaN) with points pt 13 ps 2 lc rgb "#9467bd" title "Spring Session JDBC DELETE"
