package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.tensor.TorchOps;

/**
 * {@link BlasTape#crossEntropy} gives the loss and the gradients that autograd's log-softmax, gather and weighted
 * mean give, with unscored rows, a row of weight 0.5, a target whose probability underflows float32, and the
 * backpropagation factor.
 */
class TapedCrossEntropyTest {
    // 4 rows of 4 features, a vocabulary of 5
    private static final float[] X = {
        0.3f, -1.2f, 0.8f, 0.1f,
        -0.5f, 0.4f, 1.1f, -0.9f,
        1.5f, 0.2f, -0.3f, 0.7f,
        300f, 0f, 0f, 0f,       // word 0's logit is 300, the target's is 0: its probability underflows
    };
    private static final float[] W = {
        1f, 0f, 0f, 0f,
        0.2f, -0.7f, 0.5f, 0.3f,
        0f, 1f, 0f, 0f,
        -0.4f, 0.6f, 0.1f, -0.8f,
        0.9f, 0.3f, -0.6f, 0.2f,
    };
    private static final long[] TARGETS = {1, 3, 0, 2};
    private static final float[] WEIGHTS = {1f, 0f, 0.5f, 1f};
    private static final float COUNT = 2.5f;
    private static final float FACTOR = 0.25f;

    @ParameterizedTest(name = "with the model's ops: {0}")
    @ValueSource(booleans = {false, true})
    void lossAndGradientsEqualAutogradsLogSoftmaxCrossEntropy(boolean withOps) {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); TorchOps ops = withOps ? TorchOps.load() : null) {
            float expectedLoss;
            float[][] expected;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                NDArray logProbs = x.matMul(w.transpose()).logSoftmax(-1);
                NDArray picked = logProbs.gather(m.create(TARGETS, new Shape(4, 1)), -1).squeeze(-1);
                NDArray loss = picked.mul(m.create(WEIGHTS)).sum().neg().div(COUNT);
                NDArray scaled = loss.mul(FACTOR);
                JniUtils.backward((PtNDArray) scaled, (PtNDArray) scaled.onesLike(), false, false);
                expectedLoss = loss.getFloat();
                expected = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            float actualLoss;
            float[][] actual;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                BlasTape tape = new BlasTape(m, ops);
                NDArray logits = tape.linear(tape.cut(x, true), w);
                actualLoss = tape.crossEntropy(logits, TARGETS, WEIGHTS, COUNT, FACTOR);
                tape.backward();
                actual = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            assertThat(expectedLoss).as("the underflowing row counts 300 / 2.5").isGreaterThan(120f);
            assertThat(actualLoss).isCloseTo(expectedLoss, org.assertj.core.data.Offset.offset(1e-4f));
            assertSameGradients(actual, expected);
        }
    }

    @ParameterizedTest(name = "with the model's ops: {0}")
    @ValueSource(booleans = {false, true})
    void logitsAlsoReadInAutogradGetBothGradients(boolean withOps) {
        float[] probe = new float[20];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = (i % 7 - 3) * 0.1f;
        }
        try (NDManager m = NDManager.newBaseManager("PyTorch"); TorchOps ops = withOps ? TorchOps.load() : null) {
            float[][] expected;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                NDArray logits = x.matMul(w.transpose());
                NDArray picked = logits.logSoftmax(-1).gather(m.create(TARGETS, new Shape(4, 1)), -1).squeeze(-1);
                NDArray loss = picked.mul(m.create(WEIGHTS)).sum().neg().div(COUNT).mul(FACTOR)
                        .add(logits.mul(m.create(probe, new Shape(4, 5))).sum());
                JniUtils.backward((PtNDArray) loss, (PtNDArray) loss.onesLike(), false, false);
                expected = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            float[][] actual;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                BlasTape tape = new BlasTape(m, ops);
                NDArray logits = tape.linear(tape.cut(x, true), w);
                // read before the loss, which may overwrite the logits (autograd keeps the probe, not the logits)
                NDArray extra = logits.mul(m.create(probe, new Shape(4, 5))).sum();
                tape.crossEntropy(logits, TARGETS, WEIGHTS, COUNT, FACTOR);
                JniUtils.backward((PtNDArray) extra, (PtNDArray) extra.onesLike(), true, false);
                tape.backward();
                actual = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            assertSameGradients(actual, expected);
        }
    }

    @Test
    void logitsThatAreNotTheLastLinearLayersAndTargetsOutsideTheVocabularyAreRefused() {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            BlasTape tape = new BlasTape(m);
            NDArray logits = tape.linear(tape.cut(leaf(m, X, 4), true), leaf(m, W, 5));
            assertThatThrownBy(() -> tape.crossEntropy(logits.mul(2), TARGETS, WEIGHTS, COUNT, 1f))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("last linear layer");
            assertThatThrownBy(() -> tape.crossEntropy(logits, new long[] {1, 3, 5, 2}, WEIGHTS, COUNT, 1f))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target 5 of row 2");
        }
    }

    // {dX, dW} against autograd's, within 1e-6 relative (plus 1e-6)
    private static void assertSameGradients(float[][] actual, float[][] expected) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                float tolerance = 1e-6f + 1e-6f * Math.abs(expected[i][j]);
                assertThat(actual[i][j]).as((i == 0 ? "dX" : "dW") + "[" + j + "]")
                        .isCloseTo(expected[i][j], org.assertj.core.data.Offset.offset(tolerance));
            }
        }
    }

    private static NDArray leaf(NDManager m, float[] values, int rows) {
        NDArray a = m.create(values, new Shape(rows, values.length / rows));
        a.setRequiresGradient(true);
        return a;
    }
}
