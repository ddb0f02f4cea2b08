package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.model.DecodeGemv;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.KvCache;

/**
 * Batch-1 decode steps with their projections on OpenBLAS (and attention over the cache on the host) compute what
 * transformers computes, for every architecture, and the path is left for models it cannot serve.
 */
class OpenBlasDecodeTest {
    private static final double LOGIT_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void tokenByTokenDecodeStepsMatchTransformersLogits(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            DecoderModel d = m.block();
            d.decodeGemv(DecodeGemv.OPENBLAS);
            for (int s = 0; s < 2; s++) {
                int[] ids = Fixtures.ints(ref.get("input_ids").get(s));
                float[][] logits = stepByStep(m, ids);
                for (int t = 0; t < ids.length; t++) {
                    assertThat(Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(s).get(t))))
                            .as("%s sequence %d position %d", name, s, t).isLessThanOrEqualTo(LOGIT_TOLERANCE);
                }
            }
            assertThat(d.decodesOnOpenBlas()).as("the steps ran on OpenBLAS").isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void greedyGenerationOnOpenBlasMatchesTransformers(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            assertThat(m.block().decodesOnOpenBlas()).isTrue();
        }
    }

    @Test
    void autoTimesBothKernelsAtTheFirstDecodeStepAndStillGeneratesWhatTransformersDoes() throws Exception {
        JsonNode ref = Fixtures.reference("llama3");
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            m.block().decodeGemv(DecodeGemv.AUTO);
            int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            boolean chosen = m.block().decodesOnOpenBlas();
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            assertThat(m.block().decodesOnOpenBlas()).as("the choice is made once").isEqualTo(chosen);
        }
    }

    @Test
    void sampledGenerationIsTheSameOnBothKernels() throws Exception {
        JsonNode ref = Fixtures.reference("qwen2");
        int[] prompt = Fixtures.ints(ref.get("input_ids").get(1));
        try (LanguageModel m = LanguageModel.load(Fixtures.model("qwen2"))) {
            m.block().decodeGemv(DecodeGemv.ONEDNN);
            int[] oneDnn = m.generate(prompt).maxNewTokens(24).temperature(0.8).topP(0.95).seed(7).ignoreEos().tokens();
            assertThat(m.block().decodesOnOpenBlas()).isFalse();
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            int[] openBlas = m.generate(prompt).maxNewTokens(24).temperature(0.8).topP(0.95).seed(7).ignoreEos().tokens();
            assertThat(m.block().decodesOnOpenBlas()).isTrue();
            assertThat(openBlas).containsExactly(oneDnn);
        }
    }

    @Test
    void concurrentGenerationsGiveWhatEachGivesAlone() throws Exception {
        JsonNode ref = Fixtures.reference("llama3");
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            List<int[]> prompts = List.of(Fixtures.ints(ref.get("input_ids").get(0)),
                    Fixtures.ints(ref.get("input_ids").get(1)));
            List<int[]> alone = new ArrayList<>();
            for (int[] p : prompts) {
                alone.add(m.generate(p).maxNewTokens(20).greedy().ignoreEos().tokens());
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 3; round++) {
                    List<Future<int[]>> futures = new ArrayList<>();
                    for (int[] p : prompts) {
                        futures.add(pool.submit(() -> m.generate(p).maxNewTokens(20).greedy().ignoreEos().tokens()));
                    }
                    for (int i = 0; i < prompts.size(); i++) {
                        assertThat(futures.get(i).get()).as("prompt %d, round %d", i, round).containsExactly(alone.get(i));
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aModelWithAnUnmergedAdapterStaysOnTheScriptedLayersAndMatchesItsReference() throws Exception {
        JsonNode ref = Fixtures.reference("llama3_lora");
        try (LanguageModel m = LanguageModel.from(Fixtures.model("llama3")).adapter(Fixtures.model("llama3_lora")).load()) {
            m.block().decodeGemv(DecodeGemv.OPENBLAS);
            int[] ids = Fixtures.ints(ref.get("input_ids").get(0));
            float[][] logits = stepByStep(m, ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(0).get(t))))
                        .as("position %d", t).isLessThanOrEqualTo(LOGIT_TOLERANCE);
            }
            assertThat(m.block().decodesOnOpenBlas()).isFalse();
        }
    }

    @Test
    void anUnknownKernelNameInTheSystemPropertyIsRefusedNamingIt() {
        String before = System.getProperty(DecodeGemv.PROPERTY);
        System.setProperty(DecodeGemv.PROPERTY, "cublas");
        try {
            assertThatThrownBy(DecodeGemv::fromSystemProperty).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(DecodeGemv.PROPERTY).hasMessageContaining("cublas");
        } finally {
            if (before == null) {
                System.clearProperty(DecodeGemv.PROPERTY);
            } else {
                System.setProperty(DecodeGemv.PROPERTY, before);
            }
        }
    }

    /** Feeds the ids one at a time through the KV cache (every step a batch-1 decode step) and keeps each logits. */
    private static float[][] stepByStep(LanguageModel m, int[] ids) {
        DecoderModel d = m.block();
        ModelConfig c = d.config();
        float[][] out = new float[ids.length][];
        try (NDManager g = m.manager().newSubManager()) {
            KvCache cache = new KvCache(g, c.numLayers(), 1, c.numKvHeads(), ids.length, c.headDim(), d.tensorType());
            for (int t = 0; t < ids.length; t++) {
                try (NDManager s = g.newSubManager()) {
                    ForwardContext ctx = d.context(s, new int[][] {{t}}, null, cache, t);
                    NDArray x = d.embed(s.create(new long[] {ids[t]}, new Shape(1, 1)));
                    out[t] = d.tensorType().float32(d.logits(d.hiddenFromEmbeddings(x, ctx))).toFloatArray();
                }
            }
        }
        return out;
    }
}
