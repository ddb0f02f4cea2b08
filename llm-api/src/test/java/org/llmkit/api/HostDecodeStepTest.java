package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.generate.Sampler;
import org.llmkit.api.model.DecodeGemv;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.KvCache;
import org.llmkit.api.model.NoGradient;

/**
 * A whole batch-1 decode step on the host ({@link DecoderModel#decodeOnHost}: embedding row, layers, final norm and
 * output projection without a tensor op) computes transformers' logits for every architecture, drives
 * {@link org.llmkit.api.generate.BatchDecoder} to the tokens {@link org.llmkit.api.generate.Generator} gives, and
 * stays out of the way where it does not apply.
 */
class HostDecodeStepTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void wholeStepsOnTheHostGiveTransformersLogitsTokenByToken(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            for (int s = 0; s < 2; s++) {
                int[] ids = Fixtures.ints(ref.get("input_ids").get(s));
                float[][] logits = hostStepByStep(m, ids);
                for (int t = 0; t < ids.length; t++) {
                    assertThat(logits[t]).as("%s sequence %d position %d ran on the host", name, s, t).isNotNull();
                    assertThat(Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(s).get(t))))
                            .as("%s sequence %d position %d", name, s, t).isLessThanOrEqualTo(LOGIT_TOLERANCE);
                }
            }
            assertThat(m.block().decodesOnOpenBlas()).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2"})
    void attentionOverMoreCachedSlotsThanOneGemvBlockGivesTheFullForwardsLogits(String name) throws Exception {
        int n = 1300;
        int[] ids = new java.util.Random(17).ints(n, 3, 500).toArray();
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name)); NoGradient g = NoGradient.scope();
                NDManager s = m.manager().newSubManager()) {
            DecoderModel d = m.block();
            d.decodeGemv(DecodeGemv.OPENBLAS);
            ModelConfig c = d.config();
            KvCache cache = new KvCache(s, c.numLayers(), 1, c.numKvHeads(), n, c.headDim(), d.tensorType());
            d.hidden(s.create(longs(ids, n - 1), new Shape(1, n - 1)), d.context(s, positions(n - 1), null, cache, 0));
            float[] host = d.decodeOnHost(s, ids[n - 1], n - 1, cache);
            NDArray last = d.hidden(s.create(longs(ids, n), new Shape(1, n)), d.context(s, positions(n), null, null, 0))
                    .get(new NDIndex(":, -1:, :"));
            float[] full = d.tensorType().float32(d.logits(last)).toFloatArray();
            assertThat(host).isNotNull();
            assertThat(Fixtures.maxAbsDiff(host, full)).isLessThanOrEqualTo(LOGIT_TOLERANCE);
        }
    }

    @Test
    void theHostStepIsNotTakenWhileAutogradRecords() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            DecoderModel d = m.block();
            ModelConfig c = d.config();
            boolean before = JniUtils.isGradMode();
            try (NDManager gen = m.manager().newSubManager()) {
                KvCache cache = new KvCache(gen, c.numLayers(), 1, c.numKvHeads(), 4, c.headDim(), d.tensorType());
                JniUtils.setGradMode(true);
                assertThat(d.decodeOnHost(gen, 5, 0, cache)).isNull();
            } finally {
                JniUtils.setGradMode(before);
            }
        }
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"llama3, greedy", "llama3, sampled", "llama3, penalized", "gpt2, greedy", "gpt2, sampled",
        "mistral, sampled"})
    void aSequenceAloneInAContinuousBatchGeneratesWhatGeneratorGenerates(String name, String mode) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[] prompt = Fixtures.ints(ref.get("input_ids").get(1));
        Function<Generation, Generation> settings = settings(mode);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            int[] alone = settings.apply(m.generate(prompt)).result().newTokens();
            ContinuousBatchTest.Recorder rec = new ContinuousBatchTest.Recorder();
            try (ContinuousBatch batch = m.continuousBatch(2, 1000)) {
                batch.admit(settings.apply(m.generate(prompt)), rec);
                while (batch.running() > 0) {
                    batch.step();
                }
            }
            assertThat(rec.error).isNull();
            assertThat(rec.result.newTokens()).containsExactly(alone);
            assertThat(m.block().decodesOnOpenBlas()).isTrue();
        }
    }

    @Test
    void theLastSequenceLeftInABatchMovesToRowZeroAndKeepsGeneratingWhatItGeneratesAlone() throws Exception {
        JsonNode ref = Fixtures.reference("llama3");
        int[] shortPrompt = Fixtures.ints(ref.get("input_ids").get(0));
        int[] longPrompt = Fixtures.ints(ref.get("input_ids").get(1));
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            int[] alone = m.generate(longPrompt).maxNewTokens(20).temperature(0.9).seed(3).ignoreEos().result()
                    .newTokens();
            ContinuousBatchTest.Recorder first = new ContinuousBatchTest.Recorder();
            ContinuousBatchTest.Recorder last = new ContinuousBatchTest.Recorder();
            try (ContinuousBatch batch = m.continuousBatch(2, 1000)) {
                batch.admit(m.generate(shortPrompt).maxNewTokens(4).greedy().ignoreEos(), first);
                batch.admit(m.generate(longPrompt).maxNewTokens(20).temperature(0.9).seed(3).ignoreEos(), last);
                while (batch.running() > 0) {
                    batch.step();
                }
            }
            assertThat(first.result.newTokens()).hasSize(4);
            assertThat(last.error).isNull();
            assertThat(last.result.newTokens()).containsExactly(alone);
        }
    }

    @Test
    void anUnmergedAdapterKeepsDecodeStepsOffTheHostAndGenerationMatchesTransformers() throws Exception {
        JsonNode ref = Fixtures.reference("llama3_lora");
        int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
        try (LanguageModel m = LanguageModel.from(Fixtures.model("llama3")).adapter(Fixtures.model("llama3_lora"))
                .load()) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            assertThat(hostStepByStep(m, prompt)[0]).isNull();
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            assertThat(m.block().decodesOnOpenBlas()).isFalse();
            m.mergeAdapter();
            float[][] merged = hostStepByStep(m, prompt);
            for (int t = 0; t < prompt.length; t++) {
                assertThat(merged[t]).as("merged, position %d ran on the host", t).isNotNull();
                assertThat(Fixtures.maxAbsDiff(merged[t], Fixtures.floats(ref.get("logits").get(0).get(t))))
                        .as("merged, position %d", t).isLessThanOrEqualTo(LOGIT_TOLERANCE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "gpt2"})
    void choosingOneDnnKeepsDecodeStepsOffTheHostAndGenerationMatchesTransformers(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            m.block().decodeGemv(DecodeGemv.ONEDNN);
            assertThat(hostStepByStep(m, prompt)[0]).isNull();
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            assertThat(m.block().decodesOnOpenBlas()).isFalse();
        }
    }

    @Test
    void greedyChoiceOnTheHostBreaksTiesLikeLibtorchsArgMax() throws Exception {
        float[][] cases = {{1f, 3f, 3f, 2f, 3f}, {2f, 2f, 2f}, {-1f, 0f, 5f, 5f}, {7f, -7f, 7f}};
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"));
                NDManager s = m.manager().newSubManager()) {
            for (float[] values : cases) {
                NDArray array = s.create(values);
                assertThat(Sampler.argmax(values)).as("%s", java.util.Arrays.toString(values))
                        .isEqualTo((int) array.argMax(-1).getLong());
            }
        }
    }

    private static long[] longs(int[] ids, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids[i];
        }
        return out;
    }

    private static int[][] positions(int n) {
        int[][] out = new int[1][n];
        for (int i = 0; i < n; i++) {
            out[0][i] = i;
        }
        return out;
    }

    private static Function<Generation, Generation> settings(String mode) {
        return switch (mode) {
            case "greedy" -> g -> g.maxNewTokens(16).greedy().ignoreEos();
            case "sampled" -> g -> g.maxNewTokens(16).temperature(0.8).topP(0.95).seed(7).ignoreEos();
            case "penalized" -> g -> g.maxNewTokens(16).greedy().repetitionPenalty(1.3).ignoreEos();
            default -> throw new IllegalArgumentException(mode);
        };
    }

    /**
     * Feeds the ids one at a time to {@link DecoderModel#decodeOnHost} (the first one into an empty cache) and keeps
     * each step's logits, null where the host path did not apply.
     */
    private static float[][] hostStepByStep(LanguageModel m, int[] ids) {
        DecoderModel d = m.block();
        ModelConfig c = d.config();
        float[][] out = new float[ids.length][];
        try (NoGradient g = NoGradient.scope(); NDManager gen = m.manager().newSubManager()) {
            KvCache cache = new KvCache(gen, c.numLayers(), 1, c.numKvHeads(), ids.length, c.headDim(),
                    d.tensorType());
            for (int t = 0; t < ids.length; t++) {
                out[t] = d.decodeOnHost(gen, ids[t], t, cache);
            }
        }
        return out;
    }
}
