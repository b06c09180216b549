# Gantry's two images, one target each, built from source with the Maven wrapper and run as a non-root user on a JRE:
#   docker build --target model-runner  -t gantry/model-runner:0.1.0 .
#   docker build --target sidecar-proxy -t gantry/sidecar-proxy:0.1.0 .
# The engines' native libraries (PyTorch CPU, ONNX Runtime, XGBoost, LightGBM) come inside their Maven Central jars
# in lib/, so nothing is downloaded at run time (ai.djl.offline=true); they are unpacked into DJL_CACHE_DIR and
# java.io.tmpdir at start.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
# every module's pom: the reactor reads them all even when it builds some
COPY shared-proto/pom.xml shared-proto/
COPY model-runner/pom.xml model-runner/
COPY sidecar-proxy/pom.xml sidecar-proxy/
COPY cli/pom.xml cli/
COPY perf/pom.xml perf/
COPY shared-proto/src shared-proto/src
COPY model-runner/src model-runner/src
COPY sidecar-proxy/src sidecar-proxy/src
# (the sidecar's tests use the runner's test classes, so they are compiled; no test is run)
RUN ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy -am package

FROM eclipse-temurin:17-jre AS base
# libgomp1: OpenMP, which XGBoost's and LightGBM's native libraries link against (PyTorch brings its own)
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 gantry && useradd --uid 10001 --gid 10001 --home-dir /opt/gantry --no-create-home \
      --shell /usr/sbin/nologin gantry
WORKDIR /opt/gantry
# container-aware heap (a share of the cgroup memory limit), and a process that dies rather than limps on after an
# OutOfMemoryError; the Deployment may override it. No GANTRY_* variables here: they would win over its config file.
# Each image's JVM settings are its module's jvm.options (heap, collector; see perf/RESULTS.md, "Issue 12"), read as
# an argument file; JAVA_TOOL_OPTIONS adds to them. MALLOC_ARENA_MAX: one glibc malloc arena per thread otherwise.
ENV JAVA_TOOL_OPTIONS="-XX:+ExitOnOutOfMemoryError" \
    MALLOC_ARENA_MAX=2 \
    XDG_CACHE_HOME=/tmp/cache
USER 10001:10001

FROM base AS model-runner
COPY --from=build /src/model-runner/target/model-runner.jar ./
COPY --from=build /src/model-runner/target/lib ./lib
COPY model-runner/jvm.options ./model-runner.jvm.options
# the example models, for the example init container of k8s/base and for trying the image out
COPY examples/models ./examples/models
COPY examples/mlflow-models ./examples/mlflow-models
ENV DJL_CACHE_DIR=/tmp/djl
EXPOSE 8001 8002
ENTRYPOINT ["java", "@/opt/gantry/model-runner.jvm.options", "-Dai.djl.offline=true", "-jar", "/opt/gantry/model-runner.jar"]
# without arguments: the example models (a Deployment's args replace this)
CMD ["--model-repository", "/opt/gantry/examples/models"]

FROM base AS sidecar-proxy
COPY --from=build /src/sidecar-proxy/target/sidecar-proxy.jar ./
COPY --from=build /src/sidecar-proxy/target/lib ./lib
COPY sidecar-proxy/jvm.options ./sidecar-proxy.jvm.options
EXPOSE 8080 8081 5701
ENTRYPOINT ["java", "@/opt/gantry/sidecar-proxy.jvm.options", "-jar", "/opt/gantry/sidecar-proxy.jar"]
