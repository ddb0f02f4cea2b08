package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Precision;

/**
 * Attention on OpenBLAS with its hand-written backward ({@link TapedAttention}), from a fused q/k/v leaf to the
 * attention's result, gives autograd's output and gradients (of the leaf and of the q/k/v biases) when autograd splits
 * the leaf, adds the biases, rotates queries and keys ({@link RotaryEmbedding}) and attends: whatever the mask hides
 * (padding on either side, a query that sees no key at all, a sliding window, packed documents whose positions
 * restart), with grouped and with plain multi-head queries, with and without rotary positions and biases, over
 * several blocks of queries whose GEMMs skip the keys the mask hides from all of the block.
 */
class TapedAttentionTest {
    private static final float LOWEST = -Float.MAX_VALUE;

    @Test
    void groupedQueriesWithLeftAndRightPaddingMatchAutograd() {
        boolean[][] valid = {
            {false, false, true, true, true, true, true, true, true, true, true},
            {true, true, true, true, true, true, true, false, false, false, false},
            {true, true, true, true, true, true, true, true, true, true, true},
        };
        Case c = new Case(3, 6, 2, 11, 8).rotary(shifted(3, 11, new int[] {-2, 0, 0})).biases(true);
        c.assertMatchesAutograd(m -> AttentionMasks.build(m, 3, 11, 0, valid, 0, LOWEST));
    }

    @Test
    void severalBlocksOfQueriesEachStoppingAtItsLastVisibleKeyMatchAutograd() {
        int tokens = 2 * TapedAttention.BLOCK + 22;
        boolean[][] valid = new boolean[3][tokens];
        int[][] documents = new int[3][tokens];
        int[][] positions = new int[3][tokens];
        for (int j = 0; j < tokens; j++) {
            valid[0][j] = j >= TapedAttention.BLOCK + 6;   // queries of the first blocks and more see no key
            valid[1][j] = j < tokens - 30;
            valid[2][j] = true;
            documents[2][j] = j / 41;
            positions[0][j] = j;
            positions[1][j] = j;
            positions[2][j] = j % 41;
        }
        Case c = new Case(3, 4, 2, tokens, 8).rotary(positions).biases(true);
        c.assertMatchesAutograd(m -> AttentionMasks.build(m, 3, tokens, 0, valid, documents, 0, LOWEST));
        c.assertMatchesAutograd(m -> AttentionMasks.build(m, 3, tokens, 0, valid, null, 50, LOWEST));
    }

    @Test
    void aSlidingWindowMatchesAutograd() {
        Case c = new Case(2, 4, 2, 13, 8).rotary(shifted(2, 13, new int[] {0, 0}));
        c.assertMatchesAutograd(m -> AttentionMasks.build(m, 2, 13, 0, null, 4, LOWEST));
    }

    @Test
    void packedDocumentsWithPositionsRestartingPerDocumentMatchAutograd() {
        int[][] documents = {{0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}};
        int[][] positions = {{0, 1, 2, 0, 1, 2, 3, 0, 1, 2}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3}};
        Case c = new Case(2, 3, 3, 10, 4).rotary(positions).biases(true);
        c.assertMatchesAutograd(m -> AttentionMasks.build(m, 2, 10, 0, null, documents, 0, LOWEST));
    }

    @Test
    void plainMultiHeadAttentionWithoutAMaskRotaryOrBiasesMatchesAutograd() {
        new Case(2, 3, 3, 7, 16).assertMatchesAutograd(m -> null);
    }

    @Test
    void biasesWithoutRotaryPositionsAsGpt2MatchAutograd() {
        new Case(2, 4, 4, 9, 8).biases(true).assertMatchesAutograd(m -> AttentionMasks.build(m, 2, 9, 0, null, 0,
                LOWEST));
    }

    @Test
    void frozenBiasesAreAddedButGetNoGradient() {
        new Case(2, 4, 2, 9, 8).rotary(shifted(2, 9, new int[] {0, 3})).biases(false)
                .assertMatchesAutograd(m -> AttentionMasks.build(m, 2, 9, 0, null, 0, LOWEST));
    }

    // positions 0.. of each row, shifted by the row's offset (a negative shift clamps at 0, as left padding does)
    private static int[][] shifted(int batch, int tokens, int[] shifts) {
        int[][] positions = new int[batch][tokens];
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j < tokens; j++) {
                positions[i][j] = Math.max(0, j + shifts[i]);
            }
        }
        return positions;
    }

    private interface MaskOf {
        NDArray build(NDManager m);
    }

    /** One attention shape with its inputs: the fused q/k/v leaf, optional biases and rotary positions. */
    private static final class Case {
        private final int batch;
        private final int heads;
        private final int kvHeads;
        private final int tokens;
        private final int headDim;
        private int[][] positions;
        private boolean hasBiases;
        private boolean biasesTrain;

        Case(int batch, int heads, int kvHeads, int tokens, int headDim) {
            this.batch = batch;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.tokens = tokens;
            this.headDim = headDim;
        }

        Case rotary(int[][] rowPositions) {
            positions = rowPositions;
            return this;
        }

        Case biases(boolean train) {
            hasBiases = true;
            biasesTrain = train;
            return this;
        }

        int width() {
            return (heads + 2 * kvHeads) * headDim;
        }

        void assertMatchesAutograd(MaskOf maskOf) {
            float scale = (float) (1 / Math.sqrt(headDim));
            Random random = new Random(7);
            float[] y = normal(random, batch * tokens * width());
            float[][] biases = {normal(random, heads * headDim), normal(random, kvHeads * headDim),
                normal(random, kvHeads * headDim)};
            float[] weights = normal(random, batch * tokens * heads * headDim);
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                NDArray mask = maskOf.build(m);
                NDArray w = m.create(weights, new Shape(batch, tokens, (long) heads * headDim));
                RotaryEmbedding rope = positions == null ? null : rope(m);
                NDArray[] cosSin = rope == null ? new NDArray[2]
                        : rope.cosSin(m, positions, new TensorType(Precision.FP32, null));
                Result expected;
                Result actual;
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    Inputs in = inputs(m, y, biases);
                    NDArray out = composed(m, in, rope, cosSin, mask, scale);
                    NDArray loss = out.mul(w).sum();
                    JniUtils.backward((PtNDArray) loss, (PtNDArray) loss.onesLike(), false, false);
                    expected = new Result(out, in);
                }
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    Inputs in = inputs(m, y, biases);
                    BlasTape tape = new BlasTape(m);
                    NDArray out = tape.attention(new TapedAttention.FusedQkv(in.y, heads, kvHeads, headDim,
                            in.biases), cosSin[0], cosSin[1], mask, scale);
                    tape.backward(out.mul(w).sum());
                    actual = new Result(out, in);
                }
                assertClose("output", actual.out, expected.out);
                assertClose("dY", actual.dy, expected.dy);
                String[] names = {"q bias", "k bias", "v bias"};
                for (int i = 0; hasBiases && i < 3; i++) {
                    if (biasesTrain) {
                        // a key bias's gradient is zero but for rounding without rotation (softmax ignores a shift
                        // shared by all keys): compared against the query bias's scale
                        assertClose(names[i], actual.biasGradients[i], expected.biasGradients[i],
                                i == 1 && positions == null ? maxAbs(expected.biasGradients[0]) : 0);
                    } else {
                        assertThat(actual.biasGradients[i]).as(names[i] + " is frozen").isNull();
                    }
                }
            }
        }

        private RotaryEmbedding rope(NDManager m) {
            ModelConfig config = ModelConfig.builder("llama").hiddenSize(heads * headDim).numHeads(heads)
                    .numKvHeads(kvHeads).headDim(headDim).ropeTheta(100).build();
            return new RotaryEmbedding(config, m, new TensorType(Precision.FP32, null));
        }

        private Inputs inputs(NDManager m, float[] y, float[][] biases) {
            NDArray leaf = m.create(y, new Shape(batch, tokens, width()));
            leaf.setRequiresGradient(true);
            NDArray[] bs = null;
            if (hasBiases) {
                bs = new NDArray[3];
                for (int i = 0; i < 3; i++) {
                    bs[i] = m.create(biases[i]);
                    bs[i].setRequiresGradient(biasesTrain);
                }
            }
            return new Inputs(leaf, bs);
        }

        // autograd's attention, as Attention's composed path computes it from Projection's split, returned [B,T,H*D]
        private NDArray composed(NDManager m, Inputs in, RotaryEmbedding rope, NDArray[] cosSin, NDArray mask,
                float scale) {
            NDList parts = in.y.split(new long[] {(long) heads * headDim, (long) (heads + kvHeads) * headDim}, 2);
            NDArray[] qkv = new NDArray[3];
            int[] counts = {heads, kvHeads, kvHeads};
            for (int i = 0; i < 3; i++) {
                NDArray part = in.biases == null ? parts.get(i) : parts.get(i).add(in.biases[i]);
                qkv[i] = part.reshape(batch, tokens, counts[i], headDim).transpose(0, 2, 1, 3);
            }
            if (rope != null) {
                qkv[0] = rope.apply(qkv[0], cosSin[0], cosSin[1]);
                qkv[1] = rope.apply(qkv[1], cosSin[0], cosSin[1]);
            }
            int group = heads / kvHeads;
            NDArray scores = qkv[0].reshape(batch, kvHeads, (long) group * tokens, headDim)
                    .matMul(qkv[1].transpose(0, 1, 3, 2)).mul(m.full(new Shape(), scale, DataType.FLOAT32));
            if (mask != null) {
                scores = scores.reshape(batch, kvHeads, group, tokens, tokens)
                        .add(mask.reshape(batch, 1, 1, tokens, tokens))
                        .reshape(batch, kvHeads, (long) group * tokens, tokens);
            }
            return scores.softmax(-1).matMul(qkv[2]).reshape(batch, heads, tokens, headDim).transpose(0, 2, 1, 3)
                    .reshape(batch, tokens, (long) heads * headDim);
        }
    }

    /** The leaf and the biases (or null) of one run. */
    private record Inputs(NDArray y, NDArray[] biases) { }

    /** What one run gave: its output, the leaf's gradient and each bias's (null where it has none). */
    private record Result(float[] out, float[] dy, float[][] biasGradients) {
        Result(NDArray out, Inputs in) {
            this(out.toFloatArray(), in.y.getGradient().toFloatArray(), biasGradients(in));
        }

        private static float[][] biasGradients(Inputs in) {
            float[][] grads = new float[3][];
            for (int i = 0; in.biases != null && i < 3; i++) {
                NDArray g = JniUtils.getGradient((PtNDArray) in.biases[i]);
                grads[i] = g == null ? null : g.toFloatArray();
            }
            return grads;
        }
    }

    private static void assertClose(String what, float[] actual, float[] expected) {
        assertClose(what, actual, expected, 0);
    }

    private static double maxAbs(float[] a) {
        double max = 0;
        for (float x : a) {
            max = Math.max(max, Math.abs(x));
        }
        return max;
    }

    // max |expected - actual| below 1e-5 of max(|expected|, floor)
    private static void assertClose(String what, float[] actual, float[] expected, double floor) {
        assertThat(actual).as(what).isNotNull().hasSameSizeAs(expected);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            assertThat(Float.isFinite(actual[i])).as(what + " finite at " + i).isTrue();
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertThat(Math.max(scale, floor)).as(what + " is not zero").isPositive();
        assertThat(diff).as(what + ": max |autograd - OpenBLAS| vs max |autograd| " + scale)
                .isLessThan(1e-5 * Math.max(scale, floor));
    }

    private static float[] normal(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
