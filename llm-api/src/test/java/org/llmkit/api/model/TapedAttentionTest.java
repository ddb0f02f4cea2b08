package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention on OpenBLAS with its hand-written backward ({@link TapedAttention}) gives autograd's output and
 * gradients of q, k and v, whatever the mask hides: padding on either side (a query that sees no key at all),
 * a sliding window, packed documents; with grouped and with plain multi-head queries; over several blocks of
 * queries whose GEMMs skip the keys the mask hides from all of the block.
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
        assertMatchesAutograd(3, 6, 2, 11, 8, m -> AttentionMasks.build(m, 3, 11, 0, valid, 0, LOWEST));
    }

    @Test
    void severalBlocksOfQueriesEachStoppingAtItsLastVisibleKeyMatchAutograd() {
        int tokens = 2 * TapedAttention.BLOCK + 22;
        boolean[][] valid = new boolean[3][tokens];
        int[][] documents = new int[3][tokens];
        for (int j = 0; j < tokens; j++) {
            valid[0][j] = j >= TapedAttention.BLOCK + 6;   // queries of the first blocks and more see no key
            valid[1][j] = j < tokens - 30;
            valid[2][j] = true;
            documents[2][j] = j / 41;
        }
        assertMatchesAutograd(3, 4, 2, tokens, 8,
                m -> AttentionMasks.build(m, 3, tokens, 0, valid, documents, 0, LOWEST));
        assertMatchesAutograd(3, 4, 2, tokens, 8,
                m -> AttentionMasks.build(m, 3, tokens, 0, valid, null, 50, LOWEST));
    }

    @Test
    void aSlidingWindowMatchesAutograd() {
        assertMatchesAutograd(2, 4, 2, 13, 8, m -> AttentionMasks.build(m, 2, 13, 0, null, 4, LOWEST));
    }

    @Test
    void packedDocumentsMatchAutograd() {
        int[][] documents = {{0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}};
        assertMatchesAutograd(2, 3, 3, 10, 4, m -> AttentionMasks.build(m, 2, 10, 0, null, documents, 0, LOWEST));
    }

    @Test
    void plainMultiHeadAttentionWithoutAMaskMatchesAutograd() {
        assertMatchesAutograd(2, 3, 3, 7, 16, m -> null);
    }

    private interface MaskOf {
        NDArray build(NDManager m);
    }

    private static void assertMatchesAutograd(int batch, int heads, int kvHeads, int tokens, int headDim,
            MaskOf maskOf) {
        float scale = (float) (1 / Math.sqrt(headDim));
        Random random = new Random(7);
        float[] q = normal(random, batch * heads * tokens * headDim);
        float[] k = normal(random, batch * kvHeads * tokens * headDim);
        float[] v = normal(random, batch * kvHeads * tokens * headDim);
        float[] weights = normal(random, batch * tokens * heads * headDim);
        Shape qShape = new Shape(batch, heads, tokens, headDim);
        Shape kvShape = new Shape(batch, kvHeads, tokens, headDim);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray mask = maskOf.build(m);
            NDArray w = m.create(weights, new Shape(batch, tokens, (long) heads * headDim));
            NDArray[] expected = new NDArray[3];
            NDArray[] actual = new NDArray[3];
            float[] expectedOut;
            float[] actualOut;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray[] qkv = leaves(m, q, qShape, k, kvShape, v);
                NDArray out = composed(m, qkv, mask, scale, heads / kvHeads);
                expectedOut = out.toFloatArray();
                NDArray loss = out.mul(w).sum();
                JniUtils.backward((PtNDArray) loss, (PtNDArray) loss.onesLike(), false, false);
                for (int i = 0; i < 3; i++) {
                    expected[i] = qkv[i].getGradient();
                }
            }
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray[] qkv = leaves(m, q, qShape, k, kvShape, v);
                BlasTape tape = new BlasTape(m);
                NDArray out = tape.attention(qkv[0], qkv[1], qkv[2], mask, scale);
                actualOut = out.toFloatArray();
                tape.backward(out.mul(w).sum());
                for (int i = 0; i < 3; i++) {
                    actual[i] = qkv[i].getGradient();
                }
            }
            assertClose("output", actualOut, expectedOut);
            String[] names = {"dQ", "dK", "dV"};
            for (int i = 0; i < 3; i++) {
                assertClose(names[i], actual[i].toFloatArray(), expected[i].toFloatArray());
            }
        }
    }

    private static NDArray[] leaves(NDManager m, float[] q, Shape qShape, float[] k, Shape kvShape, float[] v) {
        NDArray[] qkv = {m.create(q, qShape), m.create(k, kvShape), m.create(v, kvShape)};
        for (NDArray a : qkv) {
            a.setRequiresGradient(true);
        }
        return qkv;
    }

    // autograd's attention, as Attention's composed path computes it, returned as [B,T,H*D]
    private static NDArray composed(NDManager m, NDArray[] qkv, NDArray mask, float scale, int group) {
        Shape s = qkv[0].getShape();
        long b = s.get(0);
        long heads = s.get(1);
        long t = s.get(2);
        long d = s.get(3);
        long kvHeads = heads / group;
        NDArray scores = qkv[0].reshape(b, kvHeads, group * t, d).matMul(qkv[1].transpose(0, 1, 3, 2))
                .mul(m.full(new Shape(), scale, DataType.FLOAT32));
        if (mask != null) {
            scores = scores.reshape(b, kvHeads, group, t, t).add(mask.reshape(b, 1, 1, t, t))
                    .reshape(b, kvHeads, group * t, t);
        }
        return scores.softmax(-1).matMul(qkv[2]).reshape(b, heads, t, d).transpose(0, 2, 1, 3)
                .reshape(b, t, heads * d);
    }

    private static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            assertThat(Float.isFinite(actual[i])).as(what + " finite at " + i).isTrue();
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertThat(scale).as(what + " is not zero").isPositive();
        assertThat(diff).as(what + ": max |autograd - OpenBLAS| vs max |autograd| " + scale).isLessThan(1e-5 * scale);
    }

    private static float[] normal(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
