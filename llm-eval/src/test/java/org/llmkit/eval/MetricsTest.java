package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    private static final double EPS = 1e-12;

    @Test
    void accuracyCountsEqualLabels() {
        assertThat(Metrics.accuracy(new int[] {0, 1, 1, 0, 1}, new int[] {0, 1, 0, 0, 0})).isCloseTo(0.6, within(EPS));
    }

    @Test
    void binaryPrecisionRecallF1UseClassOneAsPositive() {
        int[] gold = {1, 1, 0, 0, 1, 0};
        int[] pred = {1, 0, 1, 0, 1, 0};   // TP 2, FP 1, FN 1
        assertThat(Metrics.precision(gold, pred)).isCloseTo(2.0 / 3, within(EPS));
        assertThat(Metrics.recall(gold, pred)).isCloseTo(2.0 / 3, within(EPS));
        assertThat(Metrics.f1(gold, pred)).isCloseTo(2.0 / 3, within(EPS));
    }

    @Test
    void binaryScoresAreZeroWhenNothingIsPositive() {
        assertThat(Metrics.f1(new int[] {0, 0}, new int[] {0, 0})).isZero();
        assertThat(Metrics.precision(new int[] {1, 0}, new int[] {0, 0})).isZero();
    }

    @Test
    void macroAndMicroMatchScikitLearnDocumentedExample() {
        // sklearn.metrics.f1_score / precision_score / recall_score docstring example
        int[] gold = {0, 1, 2, 0, 1, 2};
        int[] pred = {0, 2, 1, 0, 0, 1};
        assertThat(Metrics.f1Macro(gold, pred)).isCloseTo(0.26666666666666666, within(EPS));
        assertThat(Metrics.f1Micro(gold, pred)).isCloseTo(0.3333333333333333, within(EPS));
        assertThat(Metrics.precisionMacro(gold, pred)).isCloseTo(0.2222222222222222, within(EPS));
        assertThat(Metrics.recallMacro(gold, pred)).isCloseTo(0.3333333333333333, within(EPS));
    }

    @Test
    void matthewsCorrelationMatchesScikitLearnBinaryExample() {
        // sklearn docstring: y_true [+1, +1, +1, -1], y_pred [+1, -1, +1, +1] -> -0.33...
        assertThat(Metrics.matthewsCorrelation(new int[] {1, 1, 1, 0}, new int[] {1, 0, 1, 1}))
                .isCloseTo(-1.0 / 3, within(EPS));
    }

    @Test
    void matthewsCorrelationMultiClassFollowsGorodkinFormula() {
        // c = 5, s = 6, t = [2, 2, 2], p = [2, 1, 3]: (30 - 12) / sqrt((36 - 14)(36 - 12))
        assertThat(Metrics.matthewsCorrelation(new int[] {0, 0, 1, 1, 2, 2}, new int[] {0, 0, 1, 2, 2, 2}))
                .isCloseTo(18 / Math.sqrt(528), within(EPS));
        assertThat(Metrics.matthewsCorrelation(new int[] {0, 1, 0, 1}, new int[] {0, 0, 0, 0})).isZero();
    }

    @Test
    void pearsonMatchesHandComputedValue() {
        // dx = -2..2, dy = [-2, 0, 1, 0, 1]: sxy 6, sxx 10, syy 6
        assertThat(Metrics.pearson(new double[] {1, 2, 3, 4, 5}, new double[] {2, 4, 5, 4, 5}))
                .isCloseTo(6 / Math.sqrt(60), within(EPS));
    }

    @Test
    void spearmanGivesTiesTheirAverageRank() {
        // ranks of y: [1, 2.5, 4.5, 2.5, 4.5]; scipy.stats.spearmanr gives 0.7378647873726218
        assertThat(Metrics.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {2, 4, 5, 4, 5}))
                .isCloseTo(0.7378647873726218, within(1e-12));
        assertThat(Metrics.spearman(new double[] {1, 2, 3}, new double[] {10, 100, 1000})).isCloseTo(1, within(EPS));
    }

    @Test
    void correlationOfConstantSampleIsRejected() {
        assertThatThrownBy(() -> Metrics.pearson(new double[] {1, 2, 3}, new double[] {4, 4, 4}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("variance of y is 0");
    }

    @Test
    void mismatchedOrEmptyInputsNameBothLengths() {
        assertThatThrownBy(() -> Metrics.accuracy(new int[] {1, 0}, new int[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gold (2)").hasMessageContaining("pred (1)");
        assertThatThrownBy(() -> Metrics.f1(new int[0], new int[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Metrics.bleu(List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void exactMatchComparesWholeStrings() {
        assertThat(Metrics.exactMatch(List.of("Paris", "4", "blue"), List.of("Paris", "4 ", "blue")))
                .isCloseTo(2.0 / 3, within(EPS));
    }

    @Test
    void bleuMatchesSacreBleuReadmeExample() {
        // sacreBLEU README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
        List<String> predictions = List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
        List<List<String>> references = List.of(
                List.of("The dog bit the man.", "The dog had bit the man."),
                List.of("It was not unexpected.", "No one was surprised."),
                List.of("The man bit him first.", "The man had bitten the dog."));
        double expected = 100 * Math.exp(1 - 18.0 / 17)
                * Math.exp((Math.log(14.0 / 17) + Math.log(7.0 / 14) + Math.log(5.0 / 11) + Math.log(3.0 / 8)) / 4);
        double bleu = Metrics.bleuMultiReference(references, predictions);
        assertThat(bleu).isCloseTo(expected, within(1e-9));
        assertThat(bleu).isCloseTo(48.53, within(0.005));
    }

    @Test
    void bleuIsHundredForIdenticalTextAndZeroWithoutFourGramMatch() {
        assertThat(Metrics.bleu(List.of("a b c d e"), List.of("a b c d e"))).isCloseTo(100, within(1e-9));
        assertThat(Metrics.bleu(List.of("a b c d e"), List.of("a b c x d e"))).isZero();
    }

    @Test
    void tokenizer13aSplitsPunctuationButKeepsNumbersApostrophesAndWordDashes() {
        assertThat(Bleu.tokenize13a("It wasn't 3.5 km-long, \"ok\" 1-2."))
                .containsExactly("It", "wasn't", "3.5", "km-long", ",", "\"", "ok", "\"", "1", "-", "2", ".");
        assertThat(Bleu.tokenize13a("A &amp; B")).containsExactly("A", "&", "B");
    }

    @Test
    void rougeMatchesRougeScoreReadmeExample() {
        // google-research rouge-score README: rouge1 F 0.7058823529411765, rougeL F 0.5882352941176471
        List<String> ref = List.of("The quick brown fox jumps over the lazy dog");
        List<String> pred = List.of("The quick brown dog jumps on the log.");
        assertThat(Metrics.rouge1(ref, pred)).isCloseTo(0.7058823529411765, within(EPS));
        assertThat(Metrics.rougeL(ref, pred)).isCloseTo(0.5882352941176471, within(EPS));
    }

    @Test
    void rouge2AndRougeLFollowHandCountedOverlaps() {
        // bigrams: ref 5, pred 4, overlap 3 -> P 3/4, R 3/5, F 2/3
        assertThat(Metrics.rouge2(List.of("the cat sat on the mat"), List.of("the cat on the mat")))
                .isCloseTo(2.0 / 3, within(EPS));
        // same unigrams, reversed order: ROUGE-1 is 1, the LCS has length 1
        assertThat(Metrics.rouge1(List.of("a b c d"), List.of("d c b a"))).isCloseTo(1, within(EPS));
        assertThat(Metrics.rougeL("a b c d", "d c b a")).isCloseTo(0.25, within(EPS));
    }
}
