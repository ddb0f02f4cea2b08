package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

/** Loading, closing and sharing {@link TorchOps}. */
class TorchOpsLifecycleTest {

    @Test
    void closingTorchOpsReleasesTheModuleAndLeavesResultsUsable() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            TorchOps ops = TorchOps.load();
            NDArray x = m.create(new float[] {1.5f, -2f});
            NDArray y = ops.toFloat32(ops.toBFloat16(x));

            ops.close();
            ops.close(); // idempotent

            assertThat(ops.isClosed()).isTrue();
            assertThatThrownBy(() -> ops.toBFloat16(x))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("TorchOps is closed");
            assertThat(y.toFloatArray()).containsExactly(1.5f, -2f); // y belongs to m
        }
    }

    @Test
    void twoInstancesInOneJvmWorkAndCloseIndependently() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = m.create(new float[] {3f, 4f}, new Shape(1, 2));
            NDArray w = m.ones(new Shape(2));
            TorchOps first = TorchOps.load();
            try (TorchOps second = TorchOps.load()) {
                NDArray a = first.rmsNorm(x, w, 0);
                NDArray b = second.rmsNorm(x, w, 0);
                assertThat(a.toFloatArray()).containsExactly(b.toFloatArray());

                first.close();

                float rms = (float) Math.sqrt((9 + 16) / 2.0);
                assertThat(second.rmsNorm(x, w, 0).toFloatArray())
                        .containsExactly(3f / rms, 4f / rms);
            }
        }
    }

    @Test
    void multinomialIsRepeatableUnderTheEngineSeed() {
        try (TorchOps ops = TorchOps.load();
                NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray probs = m.create(new float[] {0.1f, 0f, 0.6f, 0.3f, 0.2f, 0.2f, 0.2f, 0.4f}, new Shape(2, 4));
            Engine.getInstance().setRandomSeed(11);
            long[] first = ops.multinomial(probs, 3).toLongArray();
            Engine.getInstance().setRandomSeed(11);
            long[] second = ops.multinomial(probs, 3).toLongArray();

            assertThat(first).hasSize(6).containsExactly(second);
            assertThat(first[0]).isNotEqualTo(1); // zero weight is never drawn
            assertThat(first[1]).isNotEqualTo(1);
            assertThat(first[2]).isNotEqualTo(1);
            assertThatThrownBy(() -> ops.multinomial(probs, 5))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[1, 4]");
        }
    }
}
