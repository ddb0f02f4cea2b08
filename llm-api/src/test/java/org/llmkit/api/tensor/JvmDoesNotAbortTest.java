package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * DJL 0.36 aborts the whole JVM ("terminate called without an active exception", exit 134) when
 * it creates a BFLOAT16 array. These tests run the bf16 paths in a child JVM, so an abort fails
 * the test instead of killing the test run.
 */
class JvmDoesNotAbortTest {

    private record Outcome(int exitCode, String output) {}

    private static Outcome runChild(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Dai.djl.offline=true");
        command.add("-Doffline=true");
        command.add("-Dai.djl.pytorch.num_threads=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Bf16PathMain.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("child JVM did not finish in 120 s:\n" + output);
        }
        return new Outcome(process.exitValue(), output);
    }

    @Test
    void everyBf16PathOfTorchOpsFinishesWithoutAbortingTheJvm() throws Exception {
        Outcome outcome = runChild();

        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(outcome.output()).contains(Bf16PathMain.DONE + " true unknown");
    }

    @Test
    void djlsOwnBf16CastDoesAbortTheJvmSoTheCheckAboveCanFail() throws Exception {
        Outcome outcome = runChild("djl-bf16");

        assertThat(outcome.exitCode()).as(outcome.output()).isEqualTo(134);
        assertThat(outcome.output()).doesNotContain(Bf16PathMain.DONE);
    }
}
