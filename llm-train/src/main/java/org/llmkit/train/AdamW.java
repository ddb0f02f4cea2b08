package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.api.model.NoGradient;

/**
 * AdamW exactly as {@code torch.optim.AdamW} (single-tensor path) computes it, with state that can be
 * saved. DJL's own AdamW puts epsilon elsewhere (DJL-NOTES trap 10). For every trainable {@code p} with
 * gradient {@code g} at step {@code t} (1-based):
 * <pre>
 * p  = p * (1 - lr * wd)                 (decoupled decay; only where decay applies)
 * m  = b1 * m + (1 - b1) * g
 * v  = b2 * v + (1 - b2) * g * g
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * The state (m and v, float32, shaped like each parameter) lives in this optimizer's own manager.
 * Updates run with autograd off, so scalar operands are never kept by a graph (DJL-NOTES trap 1).
 */
final class AdamW implements AutoCloseable {
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final NDManager state;
    private final Map<String, NDArray> firstMoment = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoment = new LinkedHashMap<>();
    private long steps;

    AdamW(NDManager parent, double beta1, double beta2, double epsilon, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.state = parent.newSubManager();
    }

    /** @return optimizer steps taken so far */
    long steps() {
        return steps;
    }

    /**
     * Applies one update to every trainable parameter.
     *
     * @param scratch the step's manager: temporaries land there
     * @param params the trainable parameters
     * @param grads their float32 gradients, in entry order
     * @param lr the learning rate of this step
     */
    void step(NDManager scratch, TrainableSet params, List<NDArray> grads, double lr) {
        steps++;
        double stepSize = lr / (1 - Math.pow(beta1, steps));
        double correction2 = Math.sqrt(1 - Math.pow(beta2, steps));
        try (NoGradient off = NoGradient.scope()) {
            for (int i = 0; i < grads.size(); i++) {
                TrainableSet.Entry e = params.entries().get(i);
                NDArray p = e.array();
                NDArray g = grads.get(i);
                NDArray m = moment(firstMoment, e.name(), p);
                NDArray v = moment(secondMoment, e.name(), p);
                // the moments' and the parameter's results go to the step's manager, not theirs
                m.tempAttach(scratch);
                v.tempAttach(scratch);
                if (weightDecay != 0 && e.decay()) {
                    p.muli(1 - lr * weightDecay);
                }
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.mul(g).muli(1 - beta2));
                NDArray denom = v.sqrt().divi(correction2).addi(epsilon);
                p.subi(m.div(denom).muli(stepSize));
            }
        }
    }

    private NDArray moment(Map<String, NDArray> moments, String name, NDArray like) {
        return moments.computeIfAbsent(name, n -> state.zeros(like.getShape(), DataType.FLOAT32));
    }

    /** @return parameter name to first moment, for checkpoints */
    Map<String, NDArray> firstMoments() {
        return firstMoment;
    }

    /** @return parameter name to second moment, for checkpoints */
    Map<String, NDArray> secondMoments() {
        return secondMoment;
    }

    /**
     * Restores state written by a checkpoint.
     *
     * @param savedSteps the step counter
     * @param first name to first-moment values
     * @param second name to second-moment values
     * @param shapes name to shape, from the trainable set
     */
    void restore(long savedSteps, Map<String, float[]> first, Map<String, float[]> second,
            Map<String, ai.djl.ndarray.types.Shape> shapes) {
        steps = savedSteps;
        first.forEach((n, values) -> firstMoment.put(n, TorchArrays.owned(state, values, shapes.get(n))));
        second.forEach((n, values) -> secondMoment.put(n, TorchArrays.owned(state, values, shapes.get(n))));
    }

    @Override
    public void close() {
        state.close();
    }
}
