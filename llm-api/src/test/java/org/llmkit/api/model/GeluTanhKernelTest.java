package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.tensor.TorchOps;

/**
 * The fused tanh-GELU ({@link TorchOps#geluTanh}, what a GPT-2 MLP runs with the model's ops) against its slow twin,
 * HF's {@code gelu_new} formula in tensor ops ({@link Activations}): values and autograd's input gradient.
 */
class GeluTanhKernelTest {
    private static TorchOps ops;

    @BeforeAll
    static void load() {
        ops = TorchOps.load();
    }

    @AfterAll
    static void close() {
        ops.close();
    }

    @Test
    void fusedKernelGivesTheFormulasValuesAndGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            int n = 4099;   // not a multiple of a vector width
            float[] xv = new float[n];
            float[] dyv = new float[n];
            for (int i = 0; i < n; i++) {
                xv[i] = (float) (6 * Math.sin(i * 0.37));   // both tails and the bend near 0
                dyv[i] = (float) Math.cos(i * 0.11);
            }
            Constants constants = new Constants(m, DataType.FLOAT32);
            float[][] formula = valueAndGradient(m, xv, dyv, x -> Activations.apply("gelu_new", x, constants));
            float[][] fused = valueAndGradient(m, xv, dyv, ops::geluTanh);
            for (int i = 0; i < n; i++) {
                assertThat((double) fused[0][i]).as("gelu(%s)", xv[i])
                        .isCloseTo(formula[0][i], within(2e-6 * (1 + Math.abs(xv[i]))));
                assertThat((double) fused[1][i]).as("gradient at %s", xv[i])
                        .isCloseTo(formula[1][i], within(2e-6));
            }
            // not the exact (erf) GELU: the two differ by up to ~1e-3 near |x| = 2
            float[][] erf = valueAndGradient(m, xv, dyv, x -> Activations.apply("gelu", x, constants));
            double largest = 0;
            for (int i = 0; i < n; i++) {
                largest = Math.max(largest, Math.abs(erf[0][i] - fused[0][i]));
            }
            assertThat(largest).isGreaterThan(1e-4);
        }
    }

    @Test
    void onlyTheTanhApproximationsAreRoutedToTheFusedKernel() {
        assertThat(Activations.isGeluTanh("gelu_new")).isTrue();
        assertThat(Activations.isGeluTanh("gelu_pytorch_tanh")).isTrue();
        assertThat(Activations.isGeluTanh("gelu_fast")).isTrue();
        assertThat(Activations.isGeluTanh("gelu")).isFalse();
        assertThat(Activations.isGeluTanh("silu")).isFalse();
    }

    private static float[][] valueAndGradient(NDManager m, float[] xv, float[] dyv,
            UnaryOperator<NDArray> f) {
        NDArray x = m.create(xv, new Shape(xv.length));
        x.setRequiresGradient(true);
        float[] y;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray out = f.apply(x);
            y = out.toFloatArray();
            JniUtils.backward((PtNDArray) out, (PtNDArray) m.create(dyv, new Shape(dyv.length)), false, false);
        }
        try (NDArray g = JniUtils.getGradient((PtNDArray) x)) {
            return new float[][] {y, g.toFloatArray()};
        }
    }
}
