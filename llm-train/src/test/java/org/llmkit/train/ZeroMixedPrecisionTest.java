package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/** Sharded mixed-precision training ({@code fp16()/bf16().zeroStage(n).offloadOptimizer()}) tracks FP32 training. */
class ZeroMixedPrecisionTest {
    private static final TokenDataset DATA = Corpus.sequences(32, 16, 5);

    private static List<Double> losses(UnaryOperator<FineTuner> setup) throws Exception {
        try (LanguageModel m = Corpus.tinyModel(3)) {
            return setup.apply(FineTuner.of(m).learningRate(1e-3).batchSize(8).maxSteps(12)).train(DATA).losses();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fp16 stage 2 offload", "fp16 stage 3 checkpointing", "bf16 stage 2 offload",
        "bf16 stage 3"})
    void shardedMixedPrecisionTracksFp32(String setup) throws Exception {
        List<Double> fp32 = losses(t -> t);
        int stage = setup.contains("stage 3") ? 3 : 2;
        List<Double> mixed = losses(t -> {
            FineTuner x = (setup.startsWith("fp16") ? t.fp16() : t.bf16()).devices(2).zeroStage(stage);
            x = setup.contains("offload") ? x.offloadOptimizer() : x;
            return setup.contains("checkpointing") ? x.activationCheckpointing() : x;
        });
        double gap = 0;
        for (int i = 0; i < fp32.size(); i++) {
            gap = Math.max(gap, Math.abs(mixed.get(i) - fp32.get(i)) / fp32.get(i));
        }
        System.out.printf("%s vs fp32 on one device: max relative loss gap %.2e%n", setup, gap);
        assertThat(mixed.get(mixed.size() - 1)).isLessThan(mixed.get(0));
        assertThat(gap).isLessThan(setup.startsWith("fp16") ? 2e-3 : 2e-2);
    }
}
