set terminal svg size 900,420 font 'sans,11'
set output 'perf/results/warmup-2026-11-29-second.svg'
set multiplot layout 1,2 title 'Throughput after /readyz, share of steady state (5 s windows)'
set yrange [0:1.2]
set xlabel 'seconds after /readyz'
set key bottom right
set grid
set title 'MLflow /invocations (wrk, 16 connections)'
plot 'perf/results/warmup-2026-11-29-second-rest.dat' using 1:2 with linespoints title 'old: JDK 17 defaults, no warm-up', 'perf/results/warmup-2026-11-29-second-rest.dat' using 1:3 with linespoints title 'new: jvm.options, warm-up'
set title 'gRPC ModelInfer (h2load, 4x4 streams)'
plot 'perf/results/warmup-2026-11-29-second-grpc.dat' using 1:2 with linespoints title 'old: JDK 17 defaults, no warm-up', 'perf/results/warmup-2026-11-29-second-grpc.dat' using 1:3 with linespoints title 'new: jvm.options, warm-up'
unset multiplot
