package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;

/** The terminal progress bar: what it shows, when it is drawn, and that runs without a console are unaffected. */
class ProgressDisplayTest {

    @Test
    void barShowsStepsLossLearningRateTokensPerSecondAndEta() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ProgressDisplay bar = ProgressDisplay.to(new PrintStream(buffer, true, StandardCharsets.UTF_8), 150, 10, 0)) {
            assertThat(bar.isOn()).isTrue();
            for (int step = 1; step <= 3; step++) {
                bar.update(new StepMetrics(step, 10, 0, 2.5, 1.0, 2e-4, 64, 1234, step, false, 1));
            }
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        String last = out.substring(out.lastIndexOf('\r') + 1);
        assertThat(last).contains("3/10").contains("loss 2.5000").contains("lr 0.000200").contains("1234 tok/s")
                .containsPattern("\\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\)");   // (elapsed / ETA)
        System.out.println("progress bar: " + last.strip());
    }

    @Test
    void barIsDrawnOnlyOnAConsoleOutsideCiAndUnlessTurnedOff() {
        assertThat(ProgressDisplay.shown(true, true, null)).isTrue();
        assertThat(ProgressDisplay.shown(true, true, "false")).isTrue();
        assertThat(ProgressDisplay.shown(false, true, null)).as("progress(false)").isFalse();
        assertThat(ProgressDisplay.shown(true, false, null)).as("no console").isFalse();
        assertThat(ProgressDisplay.shown(true, true, "true")).as("CI").isFalse();
        TrainingOptions off = new TrainingOptions();
        off.progress = false;
        assertThat(ProgressDisplay.open(off, 10, 0).isOn()).isFalse();
    }

    @Test
    void runsWithoutAConsoleOrWithTheBarOffTrainNormally() throws Exception {
        // surefire's forked JVM has no console: the default (progress on) draws nothing and trains as usual
        assertThat(System.console()).isNull();
        assertThat(ProgressDisplay.open(new TrainingOptions(), 10, 0).isOn()).isFalse();
        TrainingResult on;
        TrainingResult off;
        try (LanguageModel m = Corpus.tinyModel(3)) {
            on = FineTuner.of(m).batchSize(4).maxSteps(3).train(Corpus.sequences(8, 12, 1));
        }
        try (LanguageModel m = Corpus.tinyModel(3)) {
            off = FineTuner.of(m).progress(false).batchSize(4).maxSteps(3).train(Corpus.sequences(8, 12, 1));
        }
        assertThat(on.losses()).hasSize(3).isEqualTo(off.losses());
    }
}
