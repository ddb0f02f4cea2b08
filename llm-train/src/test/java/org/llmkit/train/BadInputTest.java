package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.nn.Parameter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.data.TokenDataset;

/** Bad settings and data fail with a message naming the option, before any weight changes. */
class BadInputTest {
    private static LanguageModel model;
    private static final TokenDataset DATA = Corpus.sequences(4, 8, 1);

    @BeforeAll
    static void load() {
        model = Corpus.tinyModel(1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void emptyDatasetIsRefused() {
        assertThatThrownBy(() -> FineTuner.of(model).train(DATA.slice(0, 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("training data is empty");
    }

    @Test
    void sequenceLongerThanContextIsRefused() {
        TokenDataset tooLong = TokenDataset.of(new int[][] {new int[65]}, Corpus.VOCAB);
        assertThatThrownBy(() -> FineTuner.of(model).train(tooLong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("65 tokens").hasMessageContaining("max_position_embeddings (64)");
    }

    @Test
    void settersRejectOutOfRangeValues() {
        FineTuner t = FineTuner.of(model);
        assertThatThrownBy(() -> t.batchSize(0)).hasMessageContaining("batchSize must be >= 1, was 0");
        assertThatThrownBy(() -> t.learningRate(0)).hasMessageContaining("learningRate must be > 0");
        assertThatThrownBy(() -> t.learningRate(-1e-3)).hasMessageContaining("learningRate must be > 0");
        assertThatThrownBy(() -> t.gradientAccumulation(0)).hasMessageContaining("gradientAccumulation");
        assertThatThrownBy(() -> t.zeroStage(4)).hasMessageContaining("zeroStage must be 0, 1, 2 or 3");
    }

    @Test
    void loraTargetsMatchingNoModuleAreRefusedWithoutChangingTheModel() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(2)) {
            Map<String, float[]> before = snapshot(m);
            assertThatThrownBy(() -> FineTuner.of(m).lora(4, 8, "c_attn").train(DATA))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c_attn")
                    .hasMessageContaining("q_proj");
            assertThat(m.adapter()).isEmpty();
            snapshot(m).forEach((k, v) -> assertThat(v).isEqualTo(before.get(k)));
        }
    }

    @Test
    void unimplementedFeaturesSayWhatIsMissing() {
        assertThatThrownBy(() -> FineTuner.of(model).zeroStage(2).checkpointEvery(10, Path.of("unused")).train(DATA))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("checkpoints of a sharded run");
        assertThatThrownBy(() -> FineTuner.of(model).offloadOptimizer().lora(4, 8, "q_proj").train(DATA))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("offloadOptimizer()")
                .hasMessageContaining("LoRA");
        assertThatThrownBy(() -> FineTuner.of(model).devices(2).documentBoundaries(1).train(DATA))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("documentBoundaries()");
    }

    @Test
    void settersReturnCopiesAndLeaveTheOriginalUnchanged() throws Exception {
        FineTuner base = FineTuner.of(model);
        FineTuner broken = base.offloadParameters();
        assertThat(broken).isNotSameAs(base);
        assertThatThrownBy(() -> broken.train(DATA)).isInstanceOf(IllegalArgumentException.class);
        try (LanguageModel m = Corpus.tinyModel(5)) {
            FineTuner ok = FineTuner.of(m).maxSteps(1).batchSize(4);
            ok.zeroStage(2);
            assertThat(ok.train(DATA).steps()).isEqualTo(1);
        }
    }

    @Test
    void memoryEstimateFollowsZeroAccounting() {
        ModelConfig c = Corpus.tinyModel(1).config();
        long p = c.parameterCount();
        MemoryEstimate.Result fp32 = MemoryEstimate.of(c).estimate();
        assertThat(fp32.deviceBytes()).isEqualTo(16 * p);
        MemoryEstimate.Result z2 = MemoryEstimate.of(c).fp16().zeroStage(2).devices(8).estimate();
        assertThat(z2.parameterBytesPerDevice()).isEqualTo(2 * p);
        assertThat(z2.gradientBytesPerDevice()).isEqualTo((2 * p + 7) / 8);
        assertThat(z2.optimizerBytesPerDevice()).isEqualTo((12 * p + 7) / 8);
        MemoryEstimate.Result off = MemoryEstimate.of(c).fp16().zeroStage(2).devices(8).offloadOptimizer().estimate();
        assertThat(off.optimizerBytesPerDevice()).isZero();
        assertThat(off.hostBytes()).isEqualTo((12 * p + 7) / 8 * 8);
        assertThat(off.toTable()).contains("device total");
    }

    private static Map<String, float[]> snapshot(LanguageModel m) {
        Map<String, float[]> out = new HashMap<>();
        for (Map.Entry<String, Parameter> e : m.block().parameters().entrySet()) {
            out.put(e.getKey(), e.getValue().getArray().toFloatArray());
        }
        return out;
    }
}
