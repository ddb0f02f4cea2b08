package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

/**
 * The host embedding lookup of a training forward on the tape: rows of the tables added up, and their gradient's
 * rows added back into the trainable tables' {@code .grad}, once per occurrence of an id. (Every architecture's
 * embedding gradients against autograd's: {@link OpenBlasTrainingTest}.)
 */
class TapedEmbeddingTest {
    private static final float[] TOKENS = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};   // [4, 3]
    private static final float[] POSITIONS = {100, 200, 300, 400, 500, 600};              // [2, 3]

    @Test
    void rowsOfEveryTableAreAddedAndRepeatedIdsGatherEveryRowsGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray tokens = m.create(TOKENS, new Shape(4, 3));
            NDArray positions = m.create(POSITIONS, new Shape(2, 3));
            tokens.setRequiresGradient(true);
            TapedEmbedding step = TapedEmbedding.lookUp(m, new Shape(2, 2), new NDArray[] {tokens, positions},
                    new long[][] {{3, 1, 3, 0}, {0, 1, 0, 1}});
            NDArray x = step.output();
            assertThat(x.getShape()).isEqualTo(new Shape(2, 2, 3));
            assertThat(x.toFloatArray()).containsExactly(
                    130, 231, 332, 410, 511, 612, 130, 231, 332, 400, 501, 602);
            assertThat(JniUtils.requiresGrad((PtNDArray) x)).isTrue();

            NDArray dx = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new Shape(2, 2, 3));
            JniUtils.backward((PtNDArray) x, (PtNDArray) dx, false, false);
            step.backward(m);
            // id 3 at positions 0 and 2, id 1 at 1, id 0 at 3, id 2 nowhere
            float[] once = {10, 11, 12, 4, 5, 6, 0, 0, 0, 8, 10, 12};
            assertThat(gradient(tokens)).containsExactly(once);
            assertThat(JniUtils.getGradient((PtNDArray) positions)).as("a frozen table's gradient").isNull();

            // a second micro-batch adds into the gradient that exists now
            TapedEmbedding again = TapedEmbedding.lookUp(m, new Shape(2, 2), new NDArray[] {tokens, positions},
                    new long[][] {{3, 1, 3, 0}, {0, 1, 0, 1}});
            JniUtils.backward((PtNDArray) again.output(), (PtNDArray) dx, false, false);
            again.backward(m);
            float[] twice = new float[once.length];
            for (int i = 0; i < once.length; i++) {
                twice[i] = 2 * once[i];
            }
            assertThat(gradient(tokens)).containsExactly(twice);
        }
    }

    @Test
    void frozenTablesGiveALeafThatRecordsNoGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            TapedEmbedding step = TapedEmbedding.lookUp(m, new Shape(1, 2),
                    new NDArray[] {m.create(TOKENS, new Shape(4, 3))}, new long[][] {{2, 2}});
            assertThat(step.output().toFloatArray()).containsExactly(20, 21, 22, 20, 21, 22);
            assertThat(JniUtils.requiresGrad((PtNDArray) step.output())).isFalse();
            step.backward(m);   // nothing to do, nothing thrown
        }
    }

    @Test
    void anIdOutsideItsTableIsRefusedNamingItAndThePosition() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray[] tables = {m.create(TOKENS, new Shape(4, 3)), m.create(POSITIONS, new Shape(2, 3))};
            assertThatThrownBy(() -> TapedEmbedding.lookUp(m, new Shape(1, 2), tables,
                    new long[][] {{1, 4}, {0, 1}}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("id 4 at position 1")
                    .hasMessageContaining("table of 4 rows");
            assertThatThrownBy(() -> TapedEmbedding.lookUp(m, new Shape(1, 2), tables,
                    new long[][] {{1, 2}, {0, 2}}))
                    .hasMessageContaining("id 2 at position 1")
                    .hasMessageContaining("table of 2 rows");
            assertThatThrownBy(() -> TapedEmbedding.lookUp(m, new Shape(1, 2),
                    new NDArray[] {tables[0], m.create(new float[4], new Shape(2, 2))}, new long[][] {{1, 2}, {0, 1}}))
                    .hasMessageContaining("(2, 2) is not [rows, 3]");
        }
    }

    private static float[] gradient(NDArray table) {
        try (NDArray g = JniUtils.getGradient((PtNDArray) table)) {
            return g.toFloatArray();
        }
    }
}
