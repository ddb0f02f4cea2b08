package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;

class PerplexityTest {
    private static LanguageModel model;
    private static int[][] ids;
    private static double referenceLoss;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
        var reference = Fixtures.reference();
        ids = Fixtures.inputIds(reference);
        referenceLoss = reference.get("loss_step0").asDouble();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void windowCoveringTheSequencesGivesExpOfTheReferenceLoss() {
        PerplexityResult r = Perplexity.of(model).contextLength(16).stride(16).compute(List.of(ids));
        assertThat(r.perplexity()).isCloseTo(Math.exp(referenceLoss), within(1e-5 * Math.exp(referenceLoss)));
        assertThat(r.perplexity()).isCloseTo(Math.exp(model.loss(ids)), within(1e-5 * r.perplexity()));
        assertThat(r.tokens()).isEqualTo(2 * 11);   // 12 tokens each, the first one unscored
        assertThat(r.windows()).isEqualTo(2);
        assertThat(r.sequences()).isEqualTo(2);
    }

    @Test
    void disjointWindowsEqualTheLossOfEachChunkWeightedByItsTargets() {
        int[] seq = ids[0];
        PerplexityResult r = Perplexity.of(model).contextLength(4).stride(4).compute(List.<int[]>of(seq));
        double nll = 0;
        for (int begin = 0; begin < seq.length; begin += 4) {
            int[] chunk = Arrays.copyOfRange(seq, begin, begin + 4);
            nll += model.loss(new int[][] {chunk}) * (chunk.length - 1);
        }
        assertThat(r.windows()).isEqualTo(3);
        assertThat(r.tokens()).isEqualTo(9);   // 12 tokens minus each window's unscored first token
        assertThat(r.negativeLogLikelihood()).isCloseTo(nll, within(1e-5 * nll));
    }

    @Test
    void overlappingWindowsScoreEveryTokenExceptTheFirstOnce() {
        Perplexity p = Perplexity.of(model).contextLength(6).stride(3);
        PerplexityResult r = p.compute(List.<int[]>of(ids[0]));
        assertThat(r.windows()).isEqualTo(3);   // windows [0, 6), [3, 9), [6, 12)
        assertThat(r.tokens()).isEqualTo(11);
        assertThat(p.scoredTokens(12)).isEqualTo(11);
        assertThat(p.scoredTokens(13)).isEqualTo(12);
        assertThat(Perplexity.of(model).contextLength(4).stride(4).scoredTokens(12)).isEqualTo(9);
        assertThat(Perplexity.of(model).contextLength(8).stride(5).scoredTokens(12)).isEqualTo(11);
    }

    @Test
    void strideOneWithFullContextEqualsTheSingleWindow() {
        PerplexityResult full = Perplexity.of(model).contextLength(12).compute(List.<int[]>of(ids[1]));
        PerplexityResult sliding = Perplexity.of(model).contextLength(12).stride(1).compute(List.<int[]>of(ids[1]));
        assertThat(sliding.tokens()).isEqualTo(full.tokens());
        assertThat(sliding.windows()).isEqualTo(1);   // the first window already reaches the end
        assertThat(sliding.perplexity()).isCloseTo(full.perplexity(), within(1e-9));
    }

    @Test
    void badSettingsAndInputsNameTheOptionAndRange() {
        assertThatThrownBy(() -> Perplexity.of(model).contextLength(1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contextLength must be in [2, 4096]");
        assertThatThrownBy(() -> Perplexity.of(model).contextLength(8).stride(9))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stride must be in [1, 8]");
        assertThatThrownBy(() -> Perplexity.of(model).compute(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> Perplexity.of(model).compute(List.<int[]>of(new int[] {5})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence 0 has 1 token");
    }
}
