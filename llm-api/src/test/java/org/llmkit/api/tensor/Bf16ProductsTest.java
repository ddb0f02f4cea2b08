package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bfloat16 products of autocast ({@link TorchOps#linearBf16Into}, {@link TorchOps#matmulBf16Into},
 * {@link TorchOps#weightGradientBf16}, {@link TorchOps#stackBFloat16}) equal float32 products of the operands rounded
 * to bfloat16, within the result's own rounding to bfloat16, and differ from the unrounded float32 products; the
 * variants that also reuse the weights' stack or the float32 result give the same bits.
 */
class Bf16ProductsTest {
    /** The result is rounded to bf16: 2^-8 relative, plus float32 summation order. */
    private static final double RESULT_ROUNDING = 1.0 / 256;

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
    void stackedWeightsRoundOnceAndTheLinearLayerMatchesRoundedOperands() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(3);
            NDArray x = m.randomNormal(new Shape(2, 5, 24));
            NDArray w1 = m.randomNormal(new Shape(16, 24));
            NDArray w2 = m.randomNormal(new Shape(8, 24));
            NDArray stacked = ops.stackBFloat16(new NDArray[] {w1, w2}, m);
            assertThat(stacked.getShape()).isEqualTo(new Shape(24, 24));
            NDArray y = ops.linearBf16Into(x, stacked, ops.emptyBFloat16(10, 24, m), ops.emptyBFloat16(10, 24, m));
            assertThat(y.getShape()).isEqualTo(new Shape(2, 5, 24));
            NDArray reference = rounded(x).matMul(rounded(w1.concat(w2, 0)).transpose());
            assertClose(y, reference);
            assertThat(maxAbsDiff(y, x.matMul(w1.concat(w2, 0).transpose())))
                    .as("rounding shows against float32").isPositive();
        }
    }

    @Test
    void inputGradientIsTheRoundedProductWithTheUntransposedWeights() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(4);
            NDArray dy = m.randomNormal(new Shape(3, 4, 20));
            NDArray w = m.randomNormal(new Shape(20, 12));
            NDArray dyb = ops.roundInto(dy, ops.emptyBFloat16(12, 20, m));
            NDArray dx = ops.matmulBf16Into(dy, dyb, ops.toBFloat16(w), ops.emptyBFloat16(12, 12, m));
            assertThat(dx.getShape()).isEqualTo(new Shape(3, 4, 12));
            assertClose(dx, rounded(dy).matMul(rounded(w)));
            assertThat(ops.toFloat32(dyb).reshape(3, 4, 20).toFloatArray()).containsExactly(rounded(dy).toFloatArray());
        }
    }

    @Test
    void weightGradientTakesItsColumnsOfTheOutputGradientOverAllRows() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(5);
            NDArray dy = m.randomNormal(new Shape(2, 6, 30));
            NDArray x = m.randomNormal(new Shape(2, 6, 10));
            NDArray g = ops.weightGradientBf16(dy, x, 12, 20);
            assertThat(g.getShape()).isEqualTo(new Shape(8, 10));
            NDArray columns = rounded(dy).reshape(12, 30).get(":, 12:20");
            assertClose(g, columns.transpose().matMul(rounded(x).reshape(12, 10)));
            assertThatThrownBy(() -> ops.weightGradientBf16(dy, x, 20, 31))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[20, 31)");
            assertThatThrownBy(() -> ops.stackBFloat16(new NDArray[0], m))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one");
        }
    }

    @Test
    void reusedStacksAndResultsGiveTheSameBits() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(6);
            NDArray x = m.randomNormal(new Shape(2, 3, 16));
            NDArray w1 = m.randomNormal(new Shape(8, 16));
            NDArray w2 = m.randomNormal(new Shape(4, 16));
            NDArray stacked = ops.emptyBFloat16(12, 16, m);
            ops.stackBFloat16Into(new NDArray[] {w1, w2}, stacked);
            assertThat(ops.toFloat32(stacked).toFloatArray())
                    .containsExactly(ops.toFloat32(ops.stackBFloat16(new NDArray[] {w1, w2}, m)).toFloatArray());
            NDArray xs = x.reshape(6, 16);
            NDArray y = ops.linearBf16Into(xs, stacked, ops.emptyBFloat16(6, 16, m), ops.emptyBFloat16(6, 12, m));
            NDArray widened = m.zeros(new Shape(6, 12));
            ops.linearBf16WidenInto(xs, stacked, ops.emptyBFloat16(6, 16, m), ops.emptyBFloat16(6, 12, m), widened);
            assertThat(widened.toFloatArray()).containsExactly(y.toFloatArray());
            assertThat(y.abs().sum().getFloat()).isPositive();
        }
    }

    private static NDArray rounded(NDArray a) {
        return ops.toFloat32(ops.toBFloat16(a));
    }

    private static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static void assertClose(NDArray actual, NDArray expected) {
        float scale = expected.abs().max().getFloat();
        assertThat(scale).isPositive();
        assertThat(maxAbsDiff(actual, expected)).isLessThanOrEqualTo((float) (RESULT_ROUNDING * scale));
    }
}
