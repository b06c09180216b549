set terminal svg size 900,420 font 'sans,11'
set output 'perf/results/warmup-2026-11-29-aot.svg'
set multiplot layout 1,2 title 'Throughput after /readyz, share of steady state (5 s windows)'
set yrange [0:1.2]
set xlabel 'seconds after /readyz'
set key bottom right
set grid
set title 'MLflow /invocations (wrk, 16 connections)'
plot 'perf/results/warmup-2026-11-29-aot-rest.dat' using 1:2 with linespoints title 'old: JDK 17 defaults, no warm-up', 'perf/results/warmup-2026-11-29-aot-rest.dat' using 1:3 with linespoints title 'new: JDK 17, jvm.options, warm-up', 'perf/results/warmup-2026-11-29-aot-rest.dat' using 1:4 with linespoints title 'JDK 25, jvm.options, warm-up', 'perf/results/warmup-2026-11-29-aot-rest.dat' using 1:5 with linespoints title 'JDK 25 + sidecar AOT cache'
set title 'gRPC ModelInfer (h2load, 4x4 streams)'
plot 'perf/results/warmup-2026-11-29-aot-grpc.dat' using 1:2 with linespoints title 'old: JDK 17 defaults, no warm-up', 'perf/results/warmup-2026-11-29-aot-grpc.dat' using 1:3 with linespoints title 'new: JDK 17, jvm.options, warm-up', 'perf/results/warmup-2026-11-29-aot-grpc.dat' using 1:4 with linespoints title 'JDK 25, jvm.options, warm-up', 'perf/results/warmup-2026-11-29-aot-grpc.dat' using 1:5 with linespoints title 'JDK 25 + sidecar AOT cache'
unset multiplot
