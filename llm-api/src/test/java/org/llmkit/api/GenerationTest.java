package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.generate.FinishReason;
import org.llmkit.api.generate.GenerationResult;

/** Sampling, stopping, streaming and batching behave as transformers users expect. */
class GenerationTest {
    static LanguageModel model;
    static int[] prompt;

    @BeforeAll
    static void load() throws Exception {
        model = LanguageModel.load(Fixtures.model("llama3")).withTokenizer(Tokenizer.load(Fixtures.tokenizerFolder()));
        prompt = Fixtures.ints(Fixtures.reference("llama3").get("input_ids").get(0));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void sameSeedSameSampleDifferentSeedDifferentSample() {
        int[] a = model.generate(prompt).maxNewTokens(24).temperature(1.5).seed(7).ignoreEos().tokens();
        int[] b = model.generate(prompt).maxNewTokens(24).temperature(1.5).seed(7).ignoreEos().tokens();
        int[] c = model.generate(prompt).maxNewTokens(24).temperature(1.5).seed(8).ignoreEos().tokens();
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void topKOfOneAndTinyTopPAreGreedy() {
        int[] greedy = model.generate(prompt).maxNewTokens(12).greedy().ignoreEos().tokens();
        assertThat(model.generate(prompt).maxNewTokens(12).topK(1).seed(3).ignoreEos().tokens()).containsExactly(greedy);
        assertThat(model.generate(prompt).maxNewTokens(12).topP(1e-6).seed(3).ignoreEos().tokens()).containsExactly(greedy);
    }

    @Test
    void repetitionPenaltyChangesARepetitiveGreedyContinuation() {
        // the reference greedy continuation repeats 487, 340 ... a strong penalty must break that loop
        int[] plain = model.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens();
        int[] penalized = model.generate(prompt).maxNewTokens(16).greedy().repetitionPenalty(5).ignoreEos().tokens();
        assertThat(penalized).isNotEqualTo(plain);
        int[] fresh = Arrays.copyOfRange(penalized, prompt.length, penalized.length);
        assertThat(Arrays.stream(fresh).distinct().count()).isGreaterThan(
                Arrays.stream(Arrays.copyOfRange(plain, prompt.length, plain.length)).distinct().count());
    }

    @Test
    void eosTokenEndsGenerationWithStopReason() {
        int[] greedy = model.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens();
        int third = greedy[prompt.length + 2];
        GenerationResult r = model.generate(prompt).maxNewTokens(16).greedy().stopTokens(third).result();
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.newTokens()).containsExactly(Arrays.copyOfRange(greedy, prompt.length, prompt.length + 3));
        GenerationResult full = model.generate(prompt).maxNewTokens(5).greedy().ignoreEos().result();
        assertThat(full.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(full.newTokens()).hasSize(5);
    }

    @Test
    void stopStringCutsTheTextAndIsNotEmitted() {
        String text = model.generate(prompt).maxNewTokens(16).greedy().ignoreEos().text();
        assertThat(text.length()).isGreaterThan(4);
        String stop = text.substring(2, 4);
        GenerationResult r = model.generate(prompt).maxNewTokens(16).greedy().ignoreEos().stop(stop).result();
        assertThat(r.text()).isEqualTo(text.substring(0, text.indexOf(stop)));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        List<String> pieces = new ArrayList<>();
        model.generate(prompt).maxNewTokens(16).greedy().ignoreEos().stop(stop).stream(pieces::add);
        assertThat(String.join("", pieces)).isEqualTo(r.text());
    }

    @Test
    void streamedPiecesConcatenateToTheTextAndNeverSplitACharacter() {
        // sampling at high temperature over a byte-level vocabulary produces partial UTF-8 sequences
        for (long seed = 0; seed < 6; seed++) {
            List<String> pieces = new ArrayList<>();
            GenerationResult r = model.generate(prompt).maxNewTokens(40).temperature(3).seed(seed).ignoreEos()
                    .stream(pieces::add);
            assertThat(String.join("", pieces)).isEqualTo(r.text());
            for (String p : pieces) {
                assertThat(p).isNotEmpty();
                assertThat(Character.isLowSurrogate(p.charAt(0))).as("piece starts inside a surrogate pair").isFalse();
                assertThat(Character.isHighSurrogate(p.charAt(p.length() - 1))).isFalse();
            }
            long replacementsInPieces = pieces.stream().mapToLong(p -> p.chars().filter(ch -> ch == 0xFFFD).count()).sum();
            assertThat(replacementsInPieces).isEqualTo(r.text().chars().filter(ch -> ch == 0xFFFD).count());
        }
    }

    @Test
    void batchedGenerationOfDifferentLengthsEqualsEachPromptAlone() {
        int[] shortPrompt = Arrays.copyOfRange(Fixtures.ints(Fixtures.reference("llama3").get("input_ids").get(1)), 5, 12);
        List<GenerationResult> batch = model.generate(List.of(prompt, shortPrompt)).maxNewTokens(10).greedy().ignoreEos()
                .results();
        assertThat(batch.get(0).tokens()).containsExactly(model.generate(prompt).maxNewTokens(10).greedy().ignoreEos().tokens());
        assertThat(batch.get(1).tokens()).containsExactly(
                model.generate(shortPrompt).maxNewTokens(10).greedy().ignoreEos().tokens());
    }

    @Test
    void cancellationStopsBetweenStepsAndSaysSo() {
        java.util.concurrent.atomic.AtomicInteger pieces = new java.util.concurrent.atomic.AtomicInteger();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> model.generate(prompt).maxNewTokens(50).greedy()
                        .ignoreEos().cancelWhen(() -> pieces.get() >= 3).stream(p -> pieces.incrementAndGet()))
                .isInstanceOf(java.util.concurrent.CancellationException.class)
                .hasMessageContaining("cancelled");
        assertThat(pieces.get()).isBetween(3, 10);
    }

    @Test
    void chatAppliesTheTemplateAndAnswers() {
        String r = model.chat(List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi")))
                .maxNewTokens(8).greedy().text();
        assertThat(r).isNotNull();
    }

    @Test
    void slidingWindowDecodingPastTheWindowMatchesAFullRecompute() throws Exception {
        try (LanguageModel mistral = LanguageModel.load(Fixtures.model("mistral"))) {
            int[] p = Fixtures.ints(Fixtures.reference("mistral").get("input_ids").get(0));
            int[] out = mistral.generate(p).maxNewTokens(10).greedy().ignoreEos().tokens();
            // recompute every step from scratch without a cache: the argmax must agree
            for (int t = p.length; t < out.length; t++) {
                float[][] logits = mistral.logits(Arrays.copyOf(out, t));
                assertThat(org.llmkit.api.generate.Sampler.argmax(logits[t - 1])).isEqualTo(out[t]);
            }
        }
    }
}
