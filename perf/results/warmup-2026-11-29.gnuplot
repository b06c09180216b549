set terminal svg size 900,420 font 'sans,11'
set output 'perf/results/warmup-2026-11-29.svg'
set multiplot layout 1,1 title 'Throughput after /readyz, share of steady state (5 s windows)'
set yrange [0:1.2]
set xlabel 'seconds after /readyz'
set key bottom right
set grid
set title 'MLflow /invocations (wrk, 16 connections)'
plot 'perf/results/warmup-2026-11-29-rest.dat' using 1:2 with linespoints title 'old: JDK 17, no warm-up', 'perf/results/warmup-2026-11-29-rest.dat' using 1:3 with linespoints title 'j17 warm-up', 'perf/results/warmup-2026-11-29-rest.dat' using 1:4 with linespoints title 'j25 warm-up'
unset multiplot
