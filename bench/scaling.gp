# bench/scaling.gp: the plot of BENCHMARKS.md — median latency (1 client)
# against the number of sessions, idsess solid, Duende's store dashed.
# Called by bench/report:
#   gnuplot -e "data='scaling.dat'; out='scaling.png'; xmin=50000; xmax=2e6" bench/scaling.gp
# scaling.dat columns: sessions, then for idsess: get create renew touch
# add_client lookup search pageN client, then for Duende: get create renew
# lookup search pageN (ms; "?" where not measured).

set terminal pngcairo size 1400,760 font "sans,11"
set output out
set datafile missing "?"
set multiplot layout 1,2 title "Median latency (1 client) against the number of sessions in the store — idsess solid, Duende's EF store dashed"

set logscale xy
set format x "%.0s%c"
set ylabel "median latency (ms)"
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key below box font ",10"
set xrange [xmin:xmax]

set title "Single-session operations"
plot data using 1:2  with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "get by key", \
     data using 1:3  with linespoints lw 2 pt 7 lc rgb "#d62728" title "create (sign-in)", \
     data using 1:4  with linespoints lw 2 pt 7 lc rgb "#2ca02c" title "renew", \
     data using 1:5  with linespoints lw 2 pt 7 lc rgb "#9467bd" title "touch", \
     data using 1:6  with linespoints lw 2 pt 7 lc rgb "#8c564b" title "add client", \
     data using 1:7  with linespoints lw 2 pt 7 lc rgb "#ff7f0e" title "lookup by subject", \
     data using 1:11 with linespoints lw 2 dt 2 pt 6 lc rgb "#1f77b4" title "Duende get", \
     data using 1:12 with linespoints lw 2 dt 2 pt 6 lc rgb "#d62728" title "Duende create", \
     data using 1:13 with linespoints lw 2 dt 2 pt 6 lc rgb "#2ca02c" title "Duende renew", \
     data using 1:14 with linespoints lw 2 dt 2 pt 6 lc rgb "#ff7f0e" title "Duende lookup"

set title "Admin operations"
plot data using 1:8  with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "search by name, page 1", \
     data using 1:9  with linespoints lw 2 pt 7 lc rgb "#d62728" title "broad search, deep page", \
     data using 1:10 with linespoints lw 2 pt 7 lc rgb "#2ca02c" title "sessions of a client, page 1", \
     data using 1:15 with linespoints lw 2 dt 2 pt 6 lc rgb "#1f77b4" title "Duende search by name, page 1", \
     data using 1:16 with linespoints lw 2 dt 2 pt 6 lc rgb "#d62728" title "Duende broad search, deep page"

unset multiplot
