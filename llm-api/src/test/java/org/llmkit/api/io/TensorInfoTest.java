package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TensorInfoTest {

    @Test
    void shapeIsDefensivelyCopiedOnConstructionAndAccess() {
        long[] shape = {2, 3};
        TensorInfo info = new TensorInfo("w", TensorDType.F32, shape, 100, 124);
        shape[0] = 99;
        info.shape()[1] = 99;
        assertThat(info.shape()).containsExactly(2, 3);
        assertThat(info.elementCount()).isEqualTo(6);
        assertThat(info.byteLength()).isEqualTo(24);
        assertThat(info.rank()).isEqualTo(2);
    }

    @Test
    void equalsHashCodeAndToStringUseShapeContents() {
        TensorInfo a = new TensorInfo("w", TensorDType.BF16, new long[] {4}, 8, 16);
        TensorInfo b = new TensorInfo("w", TensorDType.BF16, new long[] {4}, 8, 16);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new TensorInfo("w", TensorDType.BF16, new long[] {2, 2}, 8, 16));
        assertThat(a).isNotEqualTo(new TensorInfo("w", TensorDType.I16, new long[] {4}, 8, 16));
        assertThat(a.toString()).isEqualTo("TensorInfo[name=w, dtype=BF16, shape=[4], begin=8, end=16]");
    }

    @Test
    void inconsistentComponentsAreRejected() {
        assertThatThrownBy(() -> new TensorInfo("w", TensorDType.F32, new long[] {2}, 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 8");
        assertThatThrownBy(() -> new TensorInfo("w", TensorDType.F32, new long[] {-2}, 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThatThrownBy(() -> new TensorInfo("w", TensorDType.F32, new long[] {1}, 8, 4))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void scalarHasOneElement() {
        TensorInfo scalar = new TensorInfo("s", TensorDType.I64, new long[0], 0, 8);
        assertThat(scalar.elementCount()).isEqualTo(1);
        assertThat(scalar.rank()).isZero();
    }

    @Test
    void dtypeParsesSafetensorsNamesWithSizes() {
        assertThat(TensorDType.parse("BF16")).isEqualTo(TensorDType.BF16);
        assertThat(TensorDType.parse("BOOL").byteSize()).isEqualTo(1);
        assertThat(TensorDType.F64.byteSize()).isEqualTo(8);
        assertThat(TensorDType.I16.byteSize()).isEqualTo(2);
        assertThatThrownBy(() -> TensorDType.parse("C64"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("supported: F64, F32");
        assertThatThrownBy(() -> TensorDType.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
