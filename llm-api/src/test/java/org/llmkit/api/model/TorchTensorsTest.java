package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** {@link TorchTensors} tells a tensor whose buffer is its own memory from a view whose buffer would be a copy. */
class TorchTensorsTest {
    @Test
    void aFreshArrayIsContiguousAndATransposedViewIsNot() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.arange(12f).reshape(3, 4);
            assertThat(TorchTensors.isContiguous(a)).isTrue();
            NDArray t = a.transpose();
            assertThat(TorchTensors.isContiguous(t)).isFalse();
        }
    }
}
