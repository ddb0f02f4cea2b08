package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/** LoRA dropout: off at 0, learns with p > 0, resumes exactly, recorded in the adapter, refused without LoRA. */
class LoraDropoutTest {
    private static final TokenDataset TRAIN = Corpus.sequences(64, 16, 3);
    private static final TokenDataset VALIDATION = Corpus.sequences(16, 16, 4);
    private static final String[] ALL = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

    private static FineTuner lora(LanguageModel m) {
        return FineTuner.of(m).lora(8, 16, ALL).learningRate(3e-2).batchSize(8).maxSteps(30);
    }

    @Test
    void zeroDropoutTrainsBitForBitAsWithoutDropout() throws Exception {
        List<Double> without;
        try (LanguageModel m = Corpus.tinyModel(11)) {
            without = lora(m).train(TRAIN).losses();
        }
        try (LanguageModel m = Corpus.tinyModel(11)) {
            assertThat(lora(m).loraDropout(0).train(TRAIN).losses()).isEqualTo(without);
        }
    }

    @Test
    void loraWithDropoutLowersHeldOutLossAndEvaluatesWithoutDropout() throws Exception {
        List<Double> without;
        try (LanguageModel m = Corpus.tinyModel(11)) {
            without = lora(m).train(TRAIN).losses();
        }
        try (LanguageModel m = Corpus.tinyModel(11)) {
            double before = m.loss(Corpus.all(VALIDATION));
            TrainingResult r = lora(m).loraDropout(0.1).maxSteps(60).evaluateEvery(60, VALIDATION).train(TRAIN);
            double after = m.loss(Corpus.all(VALIDATION));
            // B starts at 0, so step 1 is unaffected by dropout; later steps see dropped branch inputs
            assertThat(r.losses().get(0)).isEqualTo(without.get(0));
            assertThat(r.losses().subList(1, 30)).isNotEqualTo(without.subList(1, 30));
            assertThat(after).isLessThan(before - 0.2);
            // the evaluation inside train() applies no dropout: it equals a plain loss of the final model
            Evaluation last = r.evaluations().get(r.evaluations().size() - 1);
            assertThat(last.loss()).isCloseTo(after, within(1e-5));
            assertThat(m.adapter().orElseThrow().dropout()).isEqualTo(0.1);
            System.out.printf("LoRA dropout 0.1: held-out loss %.3f -> %.3f%n", before, after);
        }
    }

    @Test
    void resumeWithDropoutRepeatsTheSameMasks(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base");
        try (LanguageModel m = Corpus.tinyModel(3)) {
            m.save(base);
        }
        List<Double> straight;
        try (LanguageModel m = LanguageModel.load(base)) {
            straight = configured(m).train(TRAIN).losses();
        }
        Path checkpoints = dir.resolve("ckpt");
        try (LanguageModel m = LanguageModel.load(base)) {
            FineTuner killedAtSix = configured(m).checkpointEvery(6, checkpoints).listener(new TrainingListener() {
                @Override
                public void onStep(StepMetrics s) {
                    if (s.step() == 6) {
                        throw new IllegalStateException("simulated kill");
                    }
                }
            });
            assertThatThrownBy(() -> killedAtSix.train(TRAIN)).hasMessage("simulated kill");
        }
        Path cp = checkpoints.resolve("checkpoint-00000006");
        assertThat(new ObjectMapper().readTree(cp.resolve("adapter/adapter_config.json").toFile())
                .get("lora_dropout").asDouble()).isEqualTo(0.2);
        FineTuner resumed = FineTuner.resume(cp);
        try (LanguageModel m = resumed.model()) {
            List<Double> continued = resumed.train(TRAIN).losses();
            assertThat(continued).hasSize(12);
            for (int i = 0; i < 12; i++) {
                assertThat(continued.get(i)).as("step %d", i + 1).isCloseTo(straight.get(i), within(1e-6));
            }
        }
    }

    private static FineTuner configured(LanguageModel m) {
        return FineTuner.of(m).lora(4, 8, "q_proj", "v_proj", "down_proj").loraDropout(0.2).learningRate(2e-2)
                .batchSize(4).gradientAccumulation(2).maxSteps(12).seed(5);
    }

    @Test
    void bf16LoraWithDropoutLearns() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(11)) {
            TrainingResult r = lora(m).bf16().loraDropout(0.1).maxSteps(20).train(TRAIN);
            assertThat(r.skippedSteps()).isEmpty();
            assertThat(r.finalLoss()).isLessThan(r.losses().get(0) - 0.1);
        }
    }

    @Test
    void dropoutWithoutLoraIsRefusedBeforeAnyWork() {
        try (LanguageModel m = Corpus.tinyModel(2)) {
            assertThatThrownBy(() -> FineTuner.of(m).loraDropout(0.1).train(TRAIN))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loraDropout")
                    .hasMessageContaining("lora(");
        }
    }
}
