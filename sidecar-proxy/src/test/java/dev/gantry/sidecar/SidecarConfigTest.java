package dev.gantry.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarConfigTest {
  @TempDir
  Path dir;

  @Test
  void defaultsThenFileThenEnvironmentThenFlags() throws Exception {
    Path file = dir.resolve("gantry.yaml");
    Files.writeString(file, "runner:\n  grpc_port: 9001\nsidecar:\n  port: 9090\n  runner_port: 9001\n"
        + "  default_model: from-file\n  max_in_flight: 10\n");
    SidecarConfig c = SidecarConfig.parse(new String[] {"--config", file.toString(), "--max-in-flight", "30"},
        Map.of("GANTRY_DEFAULT_MODEL", "from-env", "GANTRY_MAX_IN_FLIGHT", "20"));
    assertThat(c.port()).isEqualTo(9090);
    assertThat(c.runnerPort()).isEqualTo(9001);
    assertThat(c.defaultModel()).hasValue("from-env");
    assertThat(c.maxInFlight()).isEqualTo(30);
    assertThat(c.requestTimeoutMs()).isEqualTo(30_000);
    assertThat(SidecarConfig.parse(new String[0], Map.of()).defaultModel()).isEqualTo(Optional.empty());
  }

  @Test
  void forwardedHeadersComeAsAYamlListOrCommaSeparatedAndBadNamesAreRefused() throws Exception {
    Path file = dir.resolve("gantry.yaml");
    Files.writeString(file, "sidecar:\n  forward_headers: [X-Tenant, x-user]\n  shutdown_grace_ms: 7000\n");
    SidecarConfig c = SidecarConfig.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(c.forwardHeaders()).containsExactly("x-tenant", "x-user");
    assertThat(c.shutdownGraceMs()).isEqualTo(7000);
    assertThat(SidecarConfig.parse(new String[] {"--forward-headers", "a,b"}, Map.of()).forwardHeaders())
        .containsExactly("a", "b");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--forward-headers", "grpc-timeout"}, Map.of()))
        .hasMessageContaining("'grpc-timeout' is not a header name that can be passed on");
    assertThat(SidecarConfig.parse(new String[0], Map.of()).runnerKeepaliveMs()).isEqualTo(5000);
  }

  @Test
  void theRunnerIsReachedOverTcpUnlessASocketIsSet() throws Exception {
    assertThat(SidecarConfig.parse(new String[0], Map.of()).runnerSocket()).isEmpty();
    Path file = dir.resolve("socket.yaml");
    Files.writeString(file, "sidecar:\n  runner_socket: /run/gantry/runner.sock\n");
    assertThat(SidecarConfig.parse(new String[] {"--config", file.toString()}, Map.of()).runnerSocket())
        .contains("/run/gantry/runner.sock");
    assertThat(SidecarConfig.parse(new String[] {"--runner-socket", "/tmp/flag.sock"},
        Map.of("GANTRY_RUNNER_SOCKET", "/tmp/env.sock")).runnerSocket()).contains("/tmp/flag.sock");
    assertThat(SidecarConfig.parse(new String[0], Map.of("GANTRY_RUNNER_SOCKET", "/tmp/env.sock")).runnerSocket())
        .contains("/tmp/env.sock");
  }

  @Test
  void mistakesNameTheSettingAndWhereItCameFrom() throws Exception {
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--prot", "1"}, Map.of()))
        .hasMessageContaining("unknown flag --prot; did you mean --port");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[0], Map.of("GANTRY_SIDECAR_PORT", "eighty")))
        .hasMessageContaining("'eighty'").hasMessageContaining("environment variable GANTRY_SIDECAR_PORT");
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "sidecar:\n  portt: 1\n");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--config", file.toString()}, Map.of()))
        .hasMessageContaining("'sidecar.portt' is not a known setting");
  }

  @Test
  void clusterAdminAndDeclaredEndpointsComeFromTheFileAndAreChecked() throws Exception {
    Path file = dir.resolve("gantry.yaml");
    Files.writeString(file, """
        sidecar:
          cluster_name: prod-churn
          cluster_members: [10.0.0.7:5701, 10.0.0.8]
          admin_port: 9091
          endpoints:
            - name: churn
              variants:
                - {name: champion, model: customer-churn, version: "1", weight: 90}
                - {name: challenger, model: customer-churn, version: "2", weight: 10}
        """);
    Path token = dir.resolve("token");
    Files.writeString(token, "0123456789abcdef0123\n");
    SidecarConfig c = SidecarConfig.parse(new String[] {"--config", file.toString(), "--cluster-port", "5801"},
        Map.of("GANTRY_ADMIN_TOKEN_FILE", token.toString()));
    assertThat(c.cluster().enabled()).isTrue();
    assertThat(c.cluster().name()).isEqualTo("prod-churn");
    assertThat(c.cluster().members()).containsExactly("10.0.0.7:5701", "10.0.0.8");
    assertThat(c.cluster().port()).isEqualTo(5801);
    assertThat(c.adminPort()).isEqualTo(9091);
    assertThat(c.adminToken()).hasValue("0123456789abcdef0123");
    assertThat(c.endpoints()).hasSize(1);
    assertThat(c.endpoints().get(0).variants()).hasSize(2);
    assertThat(SidecarConfig.parse(new String[] {"--cluster", "off"}, Map.of()).cluster().enabled()).isFalse();

    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--admin-token", "short"}, Map.of()))
        .hasMessageContaining("at least 16").hasMessageContaining("flag --admin-token");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--cluster", "mesh"}, Map.of()))
        .hasMessageContaining("'embedded' or 'off'");
    Path bad = dir.resolve("bad-endpoints.yaml");
    Files.writeString(bad, "sidecar:\n  endpoints:\n    - name: churn\n      variants:\n"
        + "        - {name: a, model: m, weight: 60}\n        - {name: b, model: m, weight: 60}\n");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--config", bad.toString()}, Map.of()))
        .hasMessageContaining("'sidecar.endpoints[0]'").hasMessageContaining("sum to exactly 100");
  }

  @Test
  void rolloutsAndTheQuorumComeFromTheFileAndAreChecked() throws Exception {
    Path file = dir.resolve("rollouts.yaml");
    Files.writeString(file, """
        sidecar:
          cluster_members: [10.0.0.7, 10.0.0.8, 10.0.0.9]
          rollouts:
            - name: churn-v2
              endpoint: churn
              stable: champion
              canary: challenger
              steps: [{weight: 5, pause: 1m}, {weight: 50, pause: until_promoted}, {weight: 100}]
              analysis: {interval: 10s, checks: [{metric: error_rate, max: 0.01}]}
        """);
    SidecarConfig c = SidecarConfig.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(c.rollouts()).singleElement().satisfies(r -> {
      assertThat(r.plan().steps()).hasSize(3);
      assertThat(r.plan().steps().get(1).pause()).isEmpty();
      assertThat(r.interval()).hasSeconds(10);
    });
    // a majority of the three members listed, unless set
    assertThat(c.cluster().effectiveQuorum()).isEqualTo(2);
    assertThat(SidecarConfig.parse(new String[] {"--config", file.toString(), "--cluster-quorum", "3"}, Map.of())
        .cluster().effectiveQuorum()).isEqualTo(3);
    Path bad = dir.resolve("bad-rollouts.yaml");
    Files.writeString(bad, "sidecar:\n  rollouts:\n    - {name: r, endpoint: e, stable: a, canary: b,"
        + " steps: [{weight: 50}, {weight: 10}]}\n");
    assertThatThrownBy(() -> SidecarConfig.parse(new String[] {"--config", bad.toString()}, Map.of()))
        .hasMessageContaining("'sidecar.rollouts[0]'").hasMessageContaining("steps[1].weight");
  }
}
