package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * The host RMSNorm of the tape against autograd's composed {@code w · x / sqrt(mean(x²) + eps)}: its values, its
 * input's gradient (sent into autograd) and its weight's. (Inside whole models: {@link OpenBlasTrainingTest}.)
 */
class TapedRmsNormTest {
    private static final int ROWS = 5;
    private static final int WIDTH = 7;   // not a multiple of the four sums
    private static final float[] XV = new float[ROWS * WIDTH];
    private static final float[] DYV = new float[ROWS * WIDTH];
    private static final float[] WV = {0.5f, 1f, 1.5f, -2f, 0.25f, 3f, 1f};

    static {
        for (int i = 0; i < XV.length; i++) {
            XV[i] = (float) Math.sin(i * 1.3) * (1 + i % 3);
            DYV[i] = (float) Math.cos(i * 0.7);
        }
    }

    @Test
    void valuesAndBothGradientsAreAutogradsComposedOnes() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            double eps = 1e-5;

            // autograd's composed norm
            NDArray x1 = m.create(XV, new Shape(ROWS, WIDTH));
            NDArray w1 = m.create(WV);
            x1.setRequiresGradient(true);
            w1.setRequiresGradient(true);
            NDArray expected;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                expected = x1.div(x1.square().mean(new int[] {-1}, true).add(eps).sqrt()).mul(w1);
                JniUtils.backward((PtNDArray) expected, (PtNDArray) m.create(DYV, new Shape(ROWS, WIDTH)), false,
                        false);
            }

            // the taped one, on an input in the graph (x2 · ones), its gradient handed over
            NDArray x2 = m.create(XV, new Shape(ROWS, WIDTH));
            NDArray w2 = m.create(WV);
            x2.setRequiresGradient(true);
            w2.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray input = x2.mul(m.ones(new Shape(1)));
                TapedRmsNorm step = TapedRmsNorm.forward(m, input, w2, eps);
                assertClose(step.output().toFloatArray(), expected.toFloatArray());
                step.takeGradient(m.create(DYV, new Shape(ROWS, WIDTH)));
                step.backward(m);
            }
            assertClose(gradient(x2), gradient(x1));
            assertClose(gradient(w2), gradient(w1));
        }
    }

    @Test
    void anInputWhoseGradientGoesNowhereGetsNoneAndAFrozenWeightWantsNoGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray frozen = m.create(WV);
            NDArray x = m.create(XV, new Shape(ROWS, WIDTH));
            x.setRequiresGradient(true);
            assertThat(TapedRmsNorm.forward(m, x, frozen, 1e-5, false).wantsGradient()).isFalse();
            assertThat(TapedRmsNorm.forward(m, x, frozen, 1e-5, true).wantsGradient()).isTrue();

            // a trainable weight still gets its gradient, equal to the one beside an input gradient
            NDArray w1 = m.create(WV);
            NDArray w2 = m.create(WV);
            w1.setRequiresGradient(true);
            w2.setRequiresGradient(true);
            NDArray x1 = m.create(XV, new Shape(ROWS, WIDTH));
            NDArray x2 = m.create(XV, new Shape(ROWS, WIDTH));
            x1.setRequiresGradient(true);
            x2.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                TapedRmsNorm both = TapedRmsNorm.forward(m, x1, w1, 1e-5, true);
                both.takeGradient(m.create(DYV, new Shape(ROWS, WIDTH)));
                both.backward(m);
                TapedRmsNorm weightOnly = TapedRmsNorm.forward(m, x2, w2, 1e-5, false);
                assertThat(weightOnly.wantsGradient()).isTrue();
                weightOnly.takeGradient(m.create(DYV, new Shape(ROWS, WIDTH)));
                weightOnly.backward(m);
            }
            assertThat(gradient(w2)).containsExactly(gradient(w1));
            assertThat(JniUtils.getGradient((PtNDArray) x2)).isNull();
            assertThat(gradient(x1)).isNotEmpty();
        }
    }

    @Test
    void aWeightOfAnotherWidthIsRefused() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            assertThatThrownBy(() -> TapedRmsNorm.forward(m, m.ones(new Shape(2, 4)), m.ones(new Shape(3)), 1e-6))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("(3)")
                    .hasMessageContaining("inputs of 4");
        }
    }

    private static float[] gradient(NDArray a) {
        try (NDArray g = JniUtils.getGradient((PtNDArray) a)) {
            return g.toFloatArray();
        }
    }

    private static void assertClose(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            float tolerance = 1e-5f * (1 + Math.abs(expected[i]));
            assertThat(actual[i]).as("element " + i).isCloseTo(expected[i], within(tolerance));
        }
    }
}
