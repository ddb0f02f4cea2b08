package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each architecture computes what HuggingFace transformers computes on the hf-tiny checkpoints:
 * logits within 1e-4, identical greedy tokens, loss within 1e-5 relative, and a left-padded batch equal
 * to its sequences run alone.
 */
class ReferenceParityTest {
    static final double LOGIT_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void logitsMatchTransformers(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            for (int s = 0; s < 2; s++) {
                float[][] logits = m.logits(Fixtures.ints(ref.get("input_ids").get(s)));
                for (int t = 0; t < logits.length; t++) {
                    float[] expected = Fixtures.floats(ref.get("logits").get(s).get(t));
                    assertThat(Fixtures.maxAbsDiff(logits[t], expected))
                            .as("%s sequence %d position %d", name, s, t).isLessThanOrEqualTo(LOGIT_TOLERANCE);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void greedyTokensMatchTransformers(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            int[] out = m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens();
            assertThat(out).containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void lossMatchesTransformers(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[][] batch = {Fixtures.ints(ref.get("input_ids").get(0)), Fixtures.ints(ref.get("input_ids").get(1))};
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            double expected = ref.get("loss_step0").asDouble();
            assertThat(Math.abs(m.loss(batch) - expected) / expected).isLessThanOrEqualTo(1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void leftPaddedBatchEqualsSequencesAlone(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[] first = Fixtures.ints(ref.get("input_ids").get(0));
        int[] second = Arrays.copyOfRange(Fixtures.ints(ref.get("input_ids").get(1)), 4, 12);
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            float[][] batched = m.lastLogits(List.of(first, second));
            if (ref.has("left_padded_last_logits")) {
                for (int s = 0; s < 2; s++) {
                    assertThat(Fixtures.maxAbsDiff(batched[s], Fixtures.floats(ref.get("left_padded_last_logits").get(s))))
                            .as("%s row %d vs transformers", name, s).isLessThanOrEqualTo(LOGIT_TOLERANCE);
                }
            }
            float[][] aloneSecond = m.logits(second);
            assertThat(Fixtures.maxAbsDiff(batched[1], aloneSecond[aloneSecond.length - 1]))
                    .as("padded row vs alone").isLessThanOrEqualTo(LOGIT_TOLERANCE);
        }
    }
}
