package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/** Checkpoints continue a run exactly, are pruned to the last K, and a damaged one is refused. */
class ResumeTest {
    private static final TokenDataset DATA = Corpus.sequences(20, 12, 5);

    // a listener that ends the run at that step as a kill would, after the step's checkpoint is written
    private static TrainingListener killAt(long step) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics s) {
                if (s.step() == step) {
                    throw new IllegalStateException("simulated kill");
                }
            }
        };
    }

    private static FineTuner configured(LanguageModel m) {
        return FineTuner.of(m).learningRate(5e-3).warmupSteps(3).schedule(Schedule.LINEAR).batchSize(3)
                .gradientAccumulation(2).weightDecay(0.01).maxSteps(20).seed(9);
    }

    @Test
    void tenStepsThenResumeEqualsTwentyStraight(@TempDir Path dir) throws Exception {
        List<Double> straight;
        try (LanguageModel m = Corpus.tinyModel(3)) {
            straight = configured(m).train(DATA).losses();
        }
        try (LanguageModel m = Corpus.tinyModel(3)) {
            FineTuner killedAtTen = configured(m).checkpointEvery(5, dir).keepCheckpoints(2)
                    .listener(killAt(10));
            assertThatThrownBy(() -> killedAtTen.train(DATA)).hasMessage("simulated kill");
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("checkpoint-00000005", "checkpoint-00000010");
        }
        FineTuner resumed = FineTuner.resume(dir.resolve("checkpoint-00000010"));
        try (LanguageModel m = resumed.model()) {
            List<Double> continued = resumed.train(DATA).losses();
            assertThat(continued).hasSize(20);
            for (int i = 0; i < 20; i++) {
                assertThat(continued.get(i)).as("step %d", i + 1).isCloseTo(straight.get(i), within(1e-6));
            }
        }
    }

    @Test
    void gpt2LoraOnPeftModulesResumesExactly(@TempDir Path dir) throws Exception {
        // c_attn's one adapter over q, k and v, saved with PEFT's names in the checkpoint and loaded back onto the base
        Path base = Fixtures.hfTiny().resolve("gpt2");
        TokenDataset data = Corpus.sequences(20, 12, 6);
        List<Double> straight;
        try (LanguageModel m = LanguageModel.load(base)) {
            straight = configured(m).lora(4, 8, "c_attn", "c_fc").train(data).losses();
        }
        try (LanguageModel m = LanguageModel.load(base)) {
            FineTuner killedAtTen = configured(m).lora(4, 8, "c_attn", "c_fc").checkpointEvery(10, dir)
                    .listener(killAt(10));
            assertThatThrownBy(() -> killedAtTen.train(data)).hasMessage("simulated kill");
        }
        FineTuner resumed = FineTuner.resume(dir.resolve("checkpoint-00000010"));
        try (LanguageModel m = resumed.model()) {
            assertThat(m.block().adapterShapes()).containsKey("transformer.h.0.attn.c_attn.lora_B.weight");
            List<Double> continued = resumed.train(data).losses();
            for (int i = 0; i < 20; i++) {
                assertThat(continued.get(i)).as("step %d", i + 1).isCloseTo(straight.get(i), within(1e-6));
            }
        }
    }

    @Test
    void fp16ResumeRestoresTheLossScaleAndSkippedStepsExactly(@TempDir Path dir) throws Exception {
        TrainingResult straight;
        try (LanguageModel m = Corpus.tinyModel(3)) {
            straight = configured(m).fp16().lossScaling(Math.pow(2, 22), 4).maxSteps(12).train(DATA);
        }
        assertThat(straight.skippedSteps()).isNotEmpty();
        try (LanguageModel m = Corpus.tinyModel(3)) {
            FineTuner killedAtSix = configured(m).fp16().lossScaling(Math.pow(2, 22), 4).maxSteps(12)
                    .checkpointEvery(6, dir).listener(killAt(6));
            assertThatThrownBy(() -> killedAtSix.train(DATA)).hasMessage("simulated kill");
        }
        FineTuner resumed = FineTuner.resume(dir.resolve("checkpoint-00000006"));
        try (LanguageModel m = resumed.model()) {
            TrainingResult continued = resumed.train(DATA);
            assertThat(continued.skippedSteps()).isEqualTo(straight.skippedSteps());
            for (int i = 0; i < 12; i++) {
                assertThat(continued.losses().get(i)).as("step %d", i + 1)
                        .isCloseTo(straight.losses().get(i), within(1e-6));
            }
        }
    }

    @Test
    void truncatedOrUnfinishedCheckpointIsRefused(@TempDir Path dir) throws Exception {
        try (LanguageModel m = Corpus.tinyModel(3)) {
            configured(m).maxSteps(2).checkpointEvery(2, dir).train(DATA);
        }
        Path cp = dir.resolve("checkpoint-00000002");
        try (RandomAccessFile f = new RandomAccessFile(cp.resolve("optimizer.bin").toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        assertThatThrownBy(() -> FineTuner.resume(cp)).isInstanceOf(IOException.class)
                .hasMessageContaining("truncated").hasMessageContaining("optimizer.bin");
        Files.delete(cp.resolve(Checkpoints.STATE));
        assertThatThrownBy(() -> FineTuner.resume(cp)).isInstanceOf(IOException.class)
                .hasMessageContaining("incomplete").hasMessageContaining(Checkpoints.STATE);
    }
}
