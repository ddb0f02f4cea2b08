package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.data.TokenDataset;

/**
 * With {@code documentBoundaries}, a run over packed rows (two documents per row) trains and evaluates like
 * a run over the same documents unpacked; without it the packed run differs.
 */
class DocumentBoundariesTest {
    private static final int SEP = 31;
    private static final int DOCUMENTS = 16;
    private static final int[][] DOCS = documents();

    // documents of 6 to 11 tokens from {0..30}, each ending with SEP
    private static int[][] documents() {
        SplittableRandom random = new SplittableRandom(3);
        int[][] out = new int[DOCUMENTS][];
        for (int d = 0; d < DOCUMENTS; d++) {
            int[] doc = new int[6 + random.nextInt(6)];
            doc[0] = random.nextInt(SEP);
            for (int i = 1; i < doc.length - 1; i++) {
                doc[i] = (3 * doc[i - 1] + 1) % SEP;
            }
            doc[doc.length - 1] = SEP;
            out[d] = doc;
        }
        return out;
    }

    // rows of documents 2k and 2k+1 back to back
    private static TokenDataset packed(int from, int to) {
        int[][] rows = new int[(to - from) / 2][];
        for (int r = 0; r < rows.length; r++) {
            int[] a = DOCS[from + 2 * r];
            int[] b = DOCS[from + 2 * r + 1];
            rows[r] = new int[a.length + b.length];
            System.arraycopy(a, 0, rows[r], 0, a.length);
            System.arraycopy(b, 0, rows[r], a.length, b.length);
        }
        return TokenDataset.of(rows, Corpus.VOCAB);
    }

    private static TokenDataset unpacked(int from, int to) {
        int[][] rows = new int[to - from][];
        System.arraycopy(DOCS, from, rows, 0, rows.length);
        return TokenDataset.of(rows, Corpus.VOCAB);
    }

    private static FineTuner settings(FineTuner t) {
        return t.learningRate(1e-2).schedule(Schedule.CONSTANT).shuffle(false).maxSteps(6).gradientClipping(0);
    }

    @Test
    void packedRowsWithBoundariesTrainAndEvaluateLikeTheDocumentsAlone() throws Exception {
        TrainingResult alone;
        TrainingResult separated;
        TrainingResult across;
        try (LanguageModel m = Corpus.tinyModel(4)) {
            alone = settings(FineTuner.of(m)).batchSize(2).evaluateEvery(3, unpacked(12, 16)).train(unpacked(0, 12));
        }
        try (LanguageModel m = Corpus.tinyModel(4)) {
            separated = settings(FineTuner.of(m)).documentBoundaries(SEP).batchSize(1)
                    .evaluateEvery(3, packed(12, 16)).train(packed(0, 12));
        }
        try (LanguageModel m = Corpus.tinyModel(4)) {
            across = settings(FineTuner.of(m)).batchSize(1).evaluateEvery(3, packed(12, 16)).train(packed(0, 12));
        }
        double worst = 0;
        double acrossGap = 0;
        for (int i = 0; i < 6; i++) {
            worst = Math.max(worst, Math.abs(separated.losses().get(i) - alone.losses().get(i)));
            acrossGap = Math.max(acrossGap, Math.abs(across.losses().get(i) - alone.losses().get(i)));
            assertThat(separated.gradientNorms().get(i)).isCloseTo(alone.gradientNorms().get(i),
                    within(1e-4 * alone.gradientNorms().get(i)));
        }
        assertThat(worst).isLessThanOrEqualTo(1e-5);
        assertThat(acrossGap).isGreaterThan(1e-2);
        for (int e = 0; e < alone.evaluations().size(); e++) {
            assertThat(separated.evaluations().get(e).loss()).isCloseTo(alone.evaluations().get(e).loss(), within(1e-5));
        }
        System.out.printf("packed with boundaries vs documents alone: max loss gap %.2e over 6 steps; "
                + "without boundaries %.2e%n", worst, acrossGap);
    }

    @Test
    void defaultSeparatorComesFromTheModelsEosOrIsRefusedClearly() throws Exception {
        List<Double> explicit;
        try (LanguageModel m = withEos(SEP)) {
            explicit = settings(FineTuner.of(m)).documentBoundaries(SEP).batchSize(1).maxSteps(2)
                    .train(packed(0, 4)).losses();
        }
        try (LanguageModel m = withEos(SEP)) {
            assertThat(settings(FineTuner.of(m)).documentBoundaries().batchSize(1).maxSteps(2).train(packed(0, 4))
                    .losses()).isEqualTo(explicit);
        }
        try (LanguageModel m = Corpus.tinyModel(4)) {
            assertThatThrownBy(() -> FineTuner.of(m).documentBoundaries().train(packed(0, 4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("documentBoundaries(separatorId)");
            assertThatThrownBy(() -> FineTuner.of(m).documentBoundaries(Corpus.VOCAB).train(packed(0, 4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocabulary");
            assertThatThrownBy(() -> FineTuner.of(m).documentBoundaries(-3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("documentBoundaries");
        }
    }

    private static LanguageModel withEos(int eos) {
        ModelConfig c = ModelConfig.builder("llama").vocabSize(Corpus.VOCAB).hiddenSize(32).intermediateSize(64)
                .numLayers(2).numHeads(4).numKvHeads(2).maxPositionEmbeddings(64).eosTokenIds(List.of(eos)).build();
        return LanguageModel.create(c, 4);
    }
}
