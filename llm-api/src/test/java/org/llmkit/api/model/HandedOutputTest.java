package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * A tape step's output gradient ({@link HandedOutput}): the shares the linear layers hand over and the share
 * autograd put in the output's {@code .grad} all count, once each.
 */
class HandedOutputTest {
    /** A step that only collects its output's gradient. */
    private static final class Collecting extends HandedOutput {
        NDArray gradient;

        Collecting(NDArray output) {
            super(output);
        }

        @Override
        public void backward(NDManager manager) {
            gradient = outputGradient();
        }
    }

    @Test
    void everyHandedShareAddsUp() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Collecting step = new Collecting(leaf(m));
            assertThat(step.produced(step.output())).isTrue();
            assertThat(step.produced(leaf(m))).isFalse();
            step.takeGradient(m.create(new float[] {1, 2, 3}));
            step.takeGradient(m.create(new float[] {10, 20, 30}));
            step.backward(m);
            assertThat(step.gradient.toFloatArray()).containsExactly(11, 22, 33);
        }
    }

    @Test
    void whatAutogradAddedToTheOutputCountsBesideTheHandedShare() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Collecting step = new Collecting(leaf(m));
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray read = step.output().mul(2);   // read in autograd as well: d/dy = 2
                JniUtils.backward((PtNDArray) read, (PtNDArray) m.ones(new Shape(3)), false, false);
            }
            step.takeGradient(m.create(new float[] {1, 2, 3}));
            step.backward(m);
            assertThat(step.gradient.toFloatArray()).containsExactly(3, 4, 5);

            Collecting alone = new Collecting(leaf(m));
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray read = alone.output().mul(3);
                JniUtils.backward((PtNDArray) read, (PtNDArray) m.ones(new Shape(3)), false, false);
            }
            alone.backward(m);
            assertThat(alone.gradient.toFloatArray()).containsExactly(3, 3, 3);
        }
    }

    @Test
    void anOutputNothingReadHasNoGradient() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Collecting step = new Collecting(leaf(m));
            step.backward(m);
            assertThat(step.gradient).isNull();
        }
    }

    private static NDArray leaf(NDManager m) {
        NDArray a = m.create(new float[] {0.5f, -1, 2});
        a.setRequiresGradient(true);
        return a;
    }
}
