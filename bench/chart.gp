# The carriers side by side: each workload relative to the ideal pair
# (redis: relative to redis's native TLS), one-CPU placement, bars at the
# median, error bars from min to max over the repetitions.
#   gnuplot -e "datafile='latest.dat'; outfile='latest.png'" chart.gp
if (!exists("datafile")) datafile = 'latest.dat'
if (!exists("outfile")) outfile = 'latest.png'
set terminal pngcairo size 1200,640 font ",11"
set output outfile
set title "tlsshim against the anchors (all processes on CPU 0; higher is better; missing bar = n/a;\nplain TCP clipped at 2.5)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set datafile missing "NaN"
set ylabel "relative to the ideal OpenSSL pair (redis: to native TLS)"
set yrange [0:2.5]
set grid ytics
set key top right
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#444444"
plot datafile using 2:3:4:xtic(1) title "plain TCP" lc rgb "#999999", \
     '' using 5:6:7 title "ideal (libssl)" lc rgb "#4477aa", \
     '' using 8:9:10 title "tlsshim" lc rgb "#228833", \
     '' using 11:12:13 title "stunnel pair" lc rgb "#ee6677", \
     '' using 14:15:16 title "socat pair" lc rgb "#ccbb44"
