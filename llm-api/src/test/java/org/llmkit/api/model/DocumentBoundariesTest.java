package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llmkit.api.Fixtures;
import org.llmkit.api.LanguageModel;

/**
 * A packed row of two documents, read with a document separator, gives each document the logits and loss
 * it has alone (block-diagonal causal mask, positions restarting); without the separator it does not.
 * Rotary (llama3), learned positions (gpt2) and a sliding window of 6 (mistral); the training forward
 * (autograd on, composed DJL blocks) and the evaluation forward (scripted layers).
 */
class DocumentBoundariesTest {
    private static final int SEP = 4;
    private static final int[] FIRST = {17, 42, 99, 250, 7, 64, SEP};
    private static final int[] SECOND = {300, 8, 12, 5, 77, 150, 33, 201, 90};

    @ParameterizedTest
    @CsvSource({"llama3, true", "llama3, false", "gpt2, true", "gpt2, false", "mistral, true", "mistral, false"})
    void secondDocumentOfAPackedRowMatchesItselfAlone(String name, boolean training) throws Exception {
        int[] packed = new int[FIRST.length + SECOND.length];
        System.arraycopy(FIRST, 0, packed, 0, FIRST.length);
        System.arraycopy(SECOND, 0, packed, FIRST.length, SECOND.length);
        ForwardOptions separated = ForwardOptions.DEFAULT.withDocumentSeparator(SEP);
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve(name));
                NDManager m = model.manager().newSubManager();
                AutoCloseable mode = training ? Engine.getEngine("PyTorch").newGradientCollector() : NoGradient.scope()) {
            DecoderModel block = model.block();
            float[][] withBoundaries = rows(Losses.logits(m, block, new int[][] {packed}, separated));
            float[][] acrossBoundaries = rows(Losses.logits(m, block, new int[][] {packed}, ForwardOptions.DEFAULT));
            float[][] first = rows(Losses.logits(m, block, new int[][] {FIRST}, ForwardOptions.DEFAULT));
            float[][] second = rows(Losses.logits(m, block, new int[][] {SECOND}, ForwardOptions.DEFAULT));
            double worst = 0;
            double across = 0;
            for (int j = 0; j < packed.length; j++) {
                boolean inFirst = j < FIRST.length;
                float[] alone = inFirst ? first[j] : second[j - FIRST.length];
                worst = Math.max(worst, maxAbsDiff(withBoundaries[j], alone));
                if (!inFirst) {
                    across = Math.max(across, maxAbsDiff(acrossBoundaries[j], alone));
                }
            }
            System.out.printf("%s %s: packed with boundaries vs alone %.2e, without boundaries %.2e%n", name,
                    training ? "training" : "evaluation", worst, across);
            assertThat(worst).as("packed with boundaries vs each document alone").isLessThanOrEqualTo(1e-5);
            assertThat(across).as("packed without boundaries vs the second document alone").isGreaterThan(1e-3);

            // the packed loss is the token-weighted mean of the two documents' losses: the separator's
            // prediction of the second document's first token is not scored
            double packedLoss = Losses.causalLm(m, block, new int[][] {packed}, separated).getFloat();
            double firstLoss = Losses.causalLm(m, block, new int[][] {FIRST}).getFloat();
            double secondLoss = Losses.causalLm(m, block, new int[][] {SECOND}).getFloat();
            int n1 = FIRST.length - 1;
            int n2 = SECOND.length - 1;
            assertThat(packedLoss).isCloseTo((firstLoss * n1 + secondLoss * n2) / (n1 + n2), within(1e-5));
            double plainLoss = Losses.causalLm(m, block, new int[][] {packed}).getFloat();
            assertThat(Math.abs(plainLoss - packedLoss)).isGreaterThan(1e-3);
        }
    }

    @ParameterizedTest
    @CsvSource({"llama3", "gpt2"})
    void raggedBatchOfPackedRowsMatchesRowsAlone(String name) throws Exception {
        int[] packed = new int[FIRST.length + 3];
        System.arraycopy(FIRST, 0, packed, 0, FIRST.length);
        System.arraycopy(SECOND, 0, packed, FIRST.length, 3);
        int[] longer = new int[FIRST.length + SECOND.length];
        System.arraycopy(SECOND, 0, longer, 0, SECOND.length);
        System.arraycopy(FIRST, 0, longer, SECOND.length, FIRST.length);
        ForwardOptions separated = ForwardOptions.DEFAULT.withDocumentSeparator(SEP);
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve(name));
                NDManager m = model.manager().newSubManager();
                GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            DecoderModel block = model.block();
            float[][][] batch = new float[2][][];
            NDArray both = Losses.logits(m, block, new int[][] {packed, longer}, separated);
            batch[0] = rows(both.get(new NDIndex("0:1")));
            batch[1] = rows(both.get(new NDIndex("1:2")));
            float[][] alone0 = rows(Losses.logits(m, block, new int[][] {packed}, separated));
            float[][] alone1 = rows(Losses.logits(m, block, new int[][] {longer}, separated));
            double worst = 0;
            for (int j = 0; j < packed.length; j++) {
                worst = Math.max(worst, maxAbsDiff(batch[0][j], alone0[j]));
            }
            for (int j = 0; j < longer.length; j++) {
                worst = Math.max(worst, maxAbsDiff(batch[1][j], alone1[j]));
            }
            assertThat(worst).isLessThanOrEqualTo(1e-5);
        }
    }

    // [1,T,V] logits to [T][V]
    private static float[][] rows(NDArray logits) {
        int t = (int) logits.getShape().get(1);
        int v = (int) logits.getShape().get(2);
        float[] flat = logits.toFloatArray();
        float[][] out = new float[t][v];
        for (int j = 0; j < t; j++) {
            System.arraycopy(flat, j * v, out[j], 0, v);
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
