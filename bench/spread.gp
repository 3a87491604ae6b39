# bench/spread.gp: the spread mass expiry plot — the traffic's throughput
# per second, and the worker's removals per second, against the time from
# the expiry instant, each round its own line; the instant at 0 and each
# round's backlog end marked.  Called by bench/run:
#   gnuplot -e "dir='results'; out='spread.png'" bench/spread.gp
# Reads dir/spread_tps.tsv, spread_removed.tsv and spread_marks.tsv (round,
# variant, seconds from the instant, value).

set terminal pngcairo size 1000,640 font "sans,11" noenhanced
set output out
set datafile separator "\t"
set title "Mass expiry spread thin (one session in five) under get + touch at 4 clients"
set xlabel "seconds from the expiry instant"
set ylabel "traffic (transactions/s)"
set y2label "sessions removed per second (worker)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid xtics ytics lc rgb "#dddddd"
set key outside bottom center horizontal font ",9"
tps = dir . "/spread_tps.tsv"
rem = dir . "/spread_removed.tsv"
marks = dir . "/spread_marks.tsv"
# Each run as round:variant; the backlog's end of the runs with the worker
# under traffic marked (not "none", not "idle").
runs = system(sprintf("awk -F'\t' 'NR > 1 {print $1 \":\" $2}' %s | sort -u -t: -k1,1n -k2 | tr '\n' ' '", marks))
ends = system(sprintf("awk -F'\t' 'NR > 1 && $2 != \"none\" && $2 !~ /^idle/ {print $3}' %s | tr '\n' ' '", marks))
set arrow from 0, graph 0 to 0, graph 1 nohead lc rgb "#000000" dt 2
do for [e in ends] {
	set arrow from real(e), graph 0 to real(e), graph 1 nohead lc rgb "#888888" dt 3
}
same(r) = (sprintf("%s:%s", strcol(1), strcol(2)) eq r)
idle(r) = (strstrt(r, ":idle") > 0)
none(r) = (strstrt(r, ":none") > 0)
plot for [i = 1:words(runs)] tps using 3:(same(word(runs, i)) && !idle(word(runs, i)) ? $4 : NaN) skip 1 \
         with lines lw 2 lc i title "traffic, ".word(runs, i), \
     for [i = 1:words(runs)] rem using 3:(same(word(runs, i)) && !none(word(runs, i)) ? $4 : NaN) skip 1 \
         axes x1y2 with steps dt 2 lc i title "removed/s, ".word(runs, i)
