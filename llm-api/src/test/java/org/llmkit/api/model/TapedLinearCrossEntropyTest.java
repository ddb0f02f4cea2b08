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
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llmkit.api.tensor.TorchOps;

/**
 * {@link BlasTape#linearCrossEntropy} gives the loss and the gradients that autograd's projection, log-softmax,
 * gather and weighted mean give, with unscored rows, a row of weight 0.5, a target whose probability underflows
 * float32, and the backpropagation factor; in one block of rows or several (the last one shorter), with the model's
 * ops (in place) or without; and leaves a frozen projection without a gradient.
 */
class TapedLinearCrossEntropyTest {
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

    @ParameterizedTest(name = "with the model's ops: {0}, blocks of {1} rows")
    @CsvSource({"false, 4", "true, 4", "true, 3", "true, 1", "false, 3"})
    void lossAndGradientsEqualAutogradsProjectionAndCrossEntropy(boolean withOps, int blockRows) {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); TorchOps ops = withOps ? TorchOps.load() : null) {
            Reference expected = reference(m, true);
            float actualLoss;
            float[][] actual;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                BlasTape tape = new BlasTape(m, ops);
                actualLoss = tape.linearCrossEntropy(tape.cut(x, true), w, TARGETS, WEIGHTS, COUNT, FACTOR,
                        blockRows);
                tape.backward();
                actual = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            assertThat(expected.loss).as("the underflowing row counts 300 / 2.5").isGreaterThan(120f);
            assertThat(actualLoss).isCloseTo(expected.loss, Offset.offset(1e-4f));
            assertSameGradients(actual, expected.gradients);
        }
    }

    @Test
    void aFrozenProjectionGetsNoGradientAndItsInputStillDoes() {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); TorchOps ops = TorchOps.load()) {
            Reference expected = reference(m, false);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = m.create(W, new Shape(5, 4));
                BlasTape tape = new BlasTape(m, ops);
                tape.linearCrossEntropy(tape.cut(x, true), w, TARGETS, WEIGHTS, COUNT, FACTOR, 2);
                tape.backward();
                assertThat(JniUtils.getGradient((PtNDArray) w)).isNull();
                assertSameGradients(new float[][] {x.getGradient().toFloatArray(), expected.gradients[1]},
                        expected.gradients);
            }
        }
    }

    @Test
    void mismatchedShapesAndTargetsOutsideTheVocabularyAreRefusedBeforeAnyWork() {
        try (NDManager m = NDManager.newBaseManager("PyTorch");
                GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            BlasTape tape = new BlasTape(m);
            NDArray x = tape.cut(leaf(m, X, 4), true);
            assertThatThrownBy(() -> tape.linearCrossEntropy(x, leaf(m, new float[15], 5), TARGETS, WEIGHTS, COUNT,
                    1f)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not take inputs of 4");
            assertThatThrownBy(() -> tape.linearCrossEntropy(x, leaf(m, W, 5), new long[] {1, 3, 5, 2}, WEIGHTS,
                    COUNT, 1f)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target 5 of row 2");
            assertThatThrownBy(() -> tape.linearCrossEntropy(x, leaf(m, W, 5), new long[] {1, 3}, WEIGHTS, COUNT,
                    1f)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 rows but 2 targets");
        }
    }

    @Test
    void aGradientHandedToALinearLayerAddsToWhatAutogradGaveItsOutput() {
        float[] probe = new float[20];
        float[] handed = new float[20];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = (i % 7 - 3) * 0.1f;
            handed[i] = (i % 5 - 2) * 0.3f;
        }
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            float[][] expected;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                NDArray y = x.matMul(w.transpose());
                NDArray total = y.mul(m.create(probe, new Shape(4, 5))).sum()
                        .add(y.mul(m.create(handed, new Shape(4, 5)).mul(FACTOR)).sum());
                JniUtils.backward((PtNDArray) total, (PtNDArray) total.onesLike(), false, false);
                expected = new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
            }
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = leaf(m, X, 4);
                NDArray w = leaf(m, W, 5);
                BlasTape tape = new BlasTape(m);
                NDArray y = tape.linear(tape.cut(x, true), w);
                NDArray read = y.mul(m.create(probe, new Shape(4, 5))).sum();
                tape.handGradient(y, m.create(handed, new Shape(4, 5)), FACTOR);
                JniUtils.backward((PtNDArray) read, (PtNDArray) read.onesLike(), true, false);
                tape.backward();
                assertSameGradients(new float[][] {x.getGradient().toFloatArray(), w.getGradient().toFloatArray()},
                        expected);
            }
        }
    }

    /** Autograd's loss and {dX, dW} (dW only when the projection trains). */
    private record Reference(float loss, float[][] gradients) { }

    private static Reference reference(NDManager m, boolean trainsWeight) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray x = leaf(m, X, 4);
            NDArray w = trainsWeight ? leaf(m, W, 5) : m.create(W, new Shape(5, 4));
            NDArray logProbs = x.matMul(w.transpose()).logSoftmax(-1);
            NDArray picked = logProbs.gather(m.create(TARGETS, new Shape(4, 1)), -1).squeeze(-1);
            NDArray loss = picked.mul(m.create(WEIGHTS)).sum().neg().div(COUNT);
            NDArray scaled = loss.mul(FACTOR);
            JniUtils.backward((PtNDArray) scaled, (PtNDArray) scaled.onesLike(), false, false);
            return new Reference(loss.getFloat(), new float[][] {x.getGradient().toFloatArray(),
                trainsWeight ? w.getGradient().toFloatArray() : new float[0]});
        }
    }

    // {dX, dW} against autograd's, within 1e-6 relative (plus 1e-6)
    private static void assertSameGradients(float[][] actual, float[][] expected) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                float tolerance = 1e-6f + 1e-6f * Math.abs(expected[i][j]);
                assertThat(actual[i][j]).as((i == 0 ? "dX" : "dW") + "[" + j + "]")
                        .isCloseTo(expected[i][j], Offset.offset(tolerance));
            }
        }
    }

    private static NDArray leaf(NDManager m, float[] values, int rows) {
        NDArray a = m.create(values, new Shape(rows, values.length / rows));
        a.setRequiresGradient(true);
        return a;
    }
}
