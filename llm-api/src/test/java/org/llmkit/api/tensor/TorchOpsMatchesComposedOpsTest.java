package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.model.Activations;
import org.llmkit.api.model.Constants;

/** Fused torch ops against their composed DJL twins: values and gradients. */
class TorchOpsMatchesComposedOpsTest {

    private static final float SCALE = 0.3f; // not 1/sqrt(D), so a wrong default would show
    private static final float EPS = 1e-6f;

    private static TorchOps ops;

    @BeforeAll
    static void load() {
        ops = TorchOps.load();
    }

    @AfterAll
    static void close() {
        ops.close();
    }

    private static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    // each fused result is not all zeros and within 1e-5 of the composed one
    private static void assertAgree(NDArray[] fused, NDArray[] composed, String... names) {
        for (int i = 0; i < names.length; i++) {
            assertThat(fused[i].abs().sum().getFloat()).as("%s is not zero", names[i]).isPositive();
            assertThat(maxAbsDiff(fused[i], composed[i])).as(names[i]).isLessThanOrEqualTo(1e-5f);
        }
    }

    @Test
    void sdpaMatchesComposedAttentionWithoutMask() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(1);
            NDArray q = m.randomNormal(new Shape(2, 4, 5, 8)); // [B, H, T, D]
            NDArray k = m.randomNormal(new Shape(2, 4, 7, 8)); // [B, H, S, D]
            NDArray v = m.randomNormal(new Shape(2, 4, 7, 8));

            NDArray fused = ops.scaledDotProductAttention(q, k, v, null, SCALE, false);

            assertThat(fused.getShape()).isEqualTo(new Shape(2, 4, 5, 8));
            assertThat(maxAbsDiff(fused, Composed.attention(q, k, v, null, SCALE)))
                    .isLessThanOrEqualTo(1e-5f);
        }
    }

    @Test
    void sdpaMatchesComposedAttentionWithGqaAndCausalMask() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(2);
            NDArray q = m.randomNormal(new Shape(2, 6, 5, 8)); // [B, H=6, T, D]
            NDArray k = m.randomNormal(new Shape(2, 2, 5, 8)); // [B, KVH=2, S=T, D]
            NDArray v = m.randomNormal(new Shape(2, 2, 5, 8));
            NDArray mask = Composed.causalMask(m, 5); // [T, S]

            NDArray fused = ops.scaledDotProductAttention(q, k, v, mask, SCALE, true);
            NDArray composed = Composed.attention(q, k, v, mask, SCALE);

            assertThat(maxAbsDiff(fused, composed)).isLessThanOrEqualTo(1e-5f);
            // position 0 attends only to itself: its output is v[:, kv head, 0]
            assertThat(maxAbsDiff(fused.get(":, 0, 0"), v.get(":, 0, 0")))
                    .isLessThanOrEqualTo(1e-6f);
        }
    }

    @Test
    void sdpaRejectsHeadCountsThatDoNotGroup() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray q = m.zeros(new Shape(1, 6, 1, 8));
            NDArray k = m.zeros(new Shape(1, 4, 3, 8));
            assertThatThrownBy(() -> ops.scaledDotProductAttention(q, k, k, null, 1, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("query heads (6) must be a multiple of key/value heads (4)");
            assertThatThrownBy(() -> ops.scaledDotProductAttention(q, k, k, null, 1, false))
                    .hasMessageContaining("enableGqa=true");
        }
    }

    @Test
    void rmsNormMatchesComposedHfFormula() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(3);
            NDArray x = m.randomNormal(new Shape(3, 4, 16)).mul(m.full(new Shape(), 3f));
            NDArray weight = m.randomNormal(new Shape(16));

            NDArray fused = ops.rmsNorm(x, weight, EPS);

            assertThat(fused.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(maxAbsDiff(fused, Composed.rmsNorm(x, weight, EPS)))
                    .isLessThanOrEqualTo(1e-6f);
        }
    }

    @Test
    void rmsNormOnBf16InputCastsBackBeforeTheWeightLikeHf() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(4);
            NDArray x = ops.toBFloat16(m.randomNormal(new Shape(4, 16)));
            NDArray weight = m.randomNormal(new Shape(16)); // float32 weight: promotes to f32

            NDArray fused = ops.rmsNorm(x, weight, EPS);
            // HF: weight * h.to(bf16), h computed in float32
            NDArray normalized = Composed.rmsNorm(ops.toFloat32(x), m.ones(new Shape(16)), EPS);
            NDArray expected = weight.mul(ops.toFloat32(ops.toBFloat16(normalized)));

            assertThat(fused.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(maxAbsDiff(fused, expected)).isLessThanOrEqualTo(1e-6f);
        }
    }

    @Test
    void sdpaGradientsMatchComposedGradients() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(5);
            Shape qShape = new Shape(1, 6, 4, 8);
            Shape kvShape = new Shape(1, 2, 4, 8);
            NDArray mask = Composed.causalMask(m, 4);
            NDArray probe = m.randomNormal(qShape); // d loss / d output
            NDArray[] fused = attentionGradients(m, qShape, kvShape, probe, true, mask);
            NDArray[] composed = attentionGradients(m, qShape, kvShape, probe, false, mask);
            assertAgree(fused, composed, "q gradient", "k gradient", "v gradient");
        }
    }

    private static NDArray[] attentionGradients(
            NDManager m, Shape qShape, Shape kvShape, NDArray probe, boolean fused, NDArray mask) {
        m.getEngine().setRandomSeed(6); // same q, k, v for both runs
        NDArray q = m.randomNormal(qShape);
        NDArray k = m.randomNormal(kvShape);
        NDArray v = m.randomNormal(kvShape);
        for (NDArray a : new NDArray[] {q, k, v}) {
            a.setRequiresGradient(true);
        }
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray out =
                    fused
                            ? ops.scaledDotProductAttention(q, k, v, mask, SCALE, true)
                            : Composed.attention(q, k, v, mask, SCALE);
            collector.backward(out.mul(probe).sum());
        }
        return new NDArray[] {q.getGradient(), k.getGradient(), v.getGradient()};
    }

    @Test
    void rmsNormGradientsMatchComposedGradients() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(7);
            NDArray probe = m.randomNormal(new Shape(3, 16));
            NDArray[] fused = rmsNormGradients(m, probe, true);
            NDArray[] composed = rmsNormGradients(m, probe, false);
            assertAgree(fused, composed, "x gradient", "weight gradient");
        }
    }

    private static NDArray[] rmsNormGradients(NDManager m, NDArray probe, boolean fused) {
        m.getEngine().setRandomSeed(8);
        NDArray x = m.randomNormal(new Shape(3, 16));
        NDArray weight = m.randomNormal(new Shape(16));
        x.setRequiresGradient(true);
        weight.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray out = fused ? ops.rmsNorm(x, weight, EPS) : Composed.rmsNorm(x, weight, EPS);
            collector.backward(out.mul(probe).sum());
        }
        return new NDArray[] {x.getGradient(), weight.getGradient()};
    }

    @Test
    void swigluValuesAndGradientsMatchComposedSiluTimesUp() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(9);
            NDArray probe = m.randomNormal(new Shape(3, 20));
            NDArray[] fused = swigluWithGradients(m, probe, true);
            NDArray[] composed = swigluWithGradients(m, probe, false);
            assertAgree(fused, composed, "value", "gate gradient", "up gradient");
            assertThatThrownBy(() -> ops.swiglu(probe, probe.reshape(20, 3)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(20, 3)");
        }
    }

    @Test
    void geluTanhValuesAndGradientsMatchHfsGeluNewFormula() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            m.getEngine().setRandomSeed(11);
            NDArray x = m.randomNormal(new Shape(7, 599)).mul(3);   // both tails and the bend near 0
            NDArray probe = m.randomNormal(new Shape(7, 599));
            Constants constants = new Constants(m, DataType.FLOAT32);
            NDArray[] fused = withGradient(x, probe, ops::geluTanh);
            NDArray[] formula = withGradient(x, probe, a -> Activations.apply("gelu_new", a, constants));
            assertAgree(fused, formula, "value", "gradient");
            // and not the exact (erf) GELU, which differs by up to ~1e-3 near |x| = 2
            NDArray[] erf = withGradient(x, probe, a -> Activations.apply("gelu", a, constants));
            assertThat(maxAbsDiff(fused[0], erf[0])).isGreaterThan(1e-4f);
        }
    }

    @Test
    void onlyTheTanhApproximationsOfGeluCountAsTheFusedOnes() {
        assertThat(Activations.isGeluTanh("gelu_new")).isTrue();
        assertThat(Activations.isGeluTanh("gelu_pytorch_tanh")).isTrue();
        assertThat(Activations.isGeluTanh("gelu_fast")).isTrue();
        assertThat(Activations.isGeluTanh("gelu")).isFalse();
        assertThat(Activations.isGeluTanh("silu")).isFalse();
    }

    // f(x) and the gradient of <f(x), probe> with respect to a fresh copy of x
    private static NDArray[] withGradient(NDArray x, NDArray probe, UnaryOperator<NDArray> f) {
        NDArray leaf = x.duplicate();
        leaf.setRequiresGradient(true);
        NDArray out;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            out = f.apply(leaf);
            collector.backward(out.mul(probe).sum());
        }
        return new NDArray[] {out, leaf.getGradient()};
    }

    // silu(gate) * up and the gradients of <out, probe>, fused or as gate * sigmoid(gate) * up
    private static NDArray[] swigluWithGradients(NDManager m, NDArray probe, boolean fused) {
        m.getEngine().setRandomSeed(10);
        NDArray gate = m.randomNormal(new Shape(3, 20)).mul(3);   // both tails of the sigmoid
        NDArray up = m.randomNormal(new Shape(3, 20));
        gate.setRequiresGradient(true);
        up.setRequiresGradient(true);
        NDArray out;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            out = fused ? ops.swiglu(gate, up) : gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up);
            collector.backward(out.mul(probe).sum());
        }
        return new NDArray[] {out, gate.getGradient(), up.getGradient()};
    }

    @Test
    void softmaxInPlaceOverwritesEachRowWithItsSoftmax() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            // rows wider than one vector register, with a large value that a naive exp would overflow
            float[] values = new float[3 * 37];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) Math.sin(i * 0.7) * 5f;
            }
            values[40] = 120f;
            NDArray x = m.create(values, new Shape(3, 37));
            NDArray expected = x.softmax(-1);
            ops.softmaxInPlace(x);
            assertThat(maxAbsDiff(x, expected)).isLessThanOrEqualTo(1e-7f);
            assertThat(x.get(1).sum().getFloat()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-6f));
            assertThat(x.getFloat(1, 3)).as("the row's large value takes it all").isCloseTo(1f,
                    org.assertj.core.data.Offset.offset(1e-6f));
            assertThatThrownBy(() -> ops.softmaxInPlace(m.create(1f)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scalar");
        }
    }

    @Test
    void gradientsFlowThroughBf16Casts() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = m.create(new float[] {1f, 2f, 3f});
            x.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray y = ops.toFloat32(ops.toBFloat16(x));
                collector.backward(y.mul(m.create(new float[] {1f, 2f, 4f})).sum());
            }
            assertThat(x.getGradient().toFloatArray()).containsExactly(1f, 2f, 4f);
        }
    }
}
