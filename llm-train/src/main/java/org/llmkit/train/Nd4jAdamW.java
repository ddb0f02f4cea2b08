package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.llmkit.api.Precision;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link ShardOptimizer} in host memory with ND4J, the counterpart of DeepSpeed's CPU-Adam: the moments (and,
 * under mixed precision, the FP32 master weights) are ND4J arrays; each step brings the gradients to the host,
 * runs ND4J's fused {@code adam_updater} kernel and sends the updated weights back to the device.
 *
 * <p>ND4J's kernel computes {@code m * lr * sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + eps')}; with
 * {@code eps' = eps * sqrt(1 - b2^t)} that is exactly torch's {@code lr / (1 - b1^t) * m / (sqrt(v) /
 * sqrt(1 - b2^t) + eps)}.
 */
final class Nd4jAdamW implements ShardOptimizer {
    private final ShardOptimizer.Hyper hyper;
    private final NDArray params;
    private final TensorType type;
    private final INDArray master;
    private final INDArray m;
    private final INDArray v;
    private final List<FlatLayout.Range> decayRuns;
    private long steps;

    /**
     * @param hyper the hyper-parameters
     * @param params the working parameters of the range, flat, on the rank's device (overwritten after a step)
     * @param type the working parameters' type (FP32 needs no master copy: the weights are staged through the host)
     * @param decayRuns sub-ranges (relative to the range) that get weight decay
     */
    Nd4jAdamW(ShardOptimizer.Hyper hyper, NDArray params, TensorType type, List<FlatLayout.Range> decayRuns) {
        this.hyper = hyper;
        this.params = params;
        this.type = type;
        this.decayRuns = decayRuns;
        long n = params.size();
        if (type.precision() == Precision.FP32) {
            master = null;
        } else {
            try (NoGradient off = NoGradient.scope(); NDArray wide = type.float32(params).duplicate()) {
                master = Nd4j.createFromArray(wide.toFloatArray());
            }
        }
        m = Nd4j.zeros(DataType.FLOAT, n);
        v = Nd4j.zeros(DataType.FLOAT, n);
    }

    @Override
    public void step(NDArray gradients, double lr) {
        steps++;
        INDArray g = Nd4j.createFromArray(gradients.toFloatArray());
        INDArray p = master;
        if (p == null) {
            p = Nd4j.createFromArray(params.toFloatArray());
        }
        update(p, m, v, g, lr, steps, hyper, decayRuns);
        try (NoGradient off = NoGradient.scope(); NDManager staging = params.getManager().newSubManager()) {
            NDArray updated = TorchArrays.owned(staging, p.toFloatVector(), params.getShape());
            LocalCollectives.copyInto(params, type.cast(updated));
        }
        if (master == null) {
            p.close();
        }
        g.close();
    }

    /**
     * The AdamW update with ND4J, in place on host arrays.
     *
     * @param p float32 parameters
     * @param m first moment
     * @param v second moment
     * @param g gradients (overwritten with the update)
     * @param lr learning rate
     * @param t 1-based step
     * @param hyper the hyper-parameters
     * @param decayRuns sub-ranges that get weight decay
     */
    static void update(INDArray p, INDArray m, INDArray v, INDArray g, double lr, long t, ShardOptimizer.Hyper hyper,
            List<FlatLayout.Range> decayRuns) {
        if (hyper.weightDecay() != 0) {
            for (FlatLayout.Range r : decayRuns) {
                p.get(NDArrayIndex.interval(r.start(), r.end())).muli(1 - lr * hyper.weightDecay());
            }
        }
        double epsilon = hyper.epsilon() * hyper.correction2(t);
        Nd4j.exec(new AdamUpdater(g, v, m, lr, hyper.beta1(), hyper.beta2(), epsilon, (int) (t - 1)));
        p.subi(g);
    }

    @Override
    public NDArray weights(NDManager owner) {
        if (master != null) {
            return TorchArrays.owned(owner, master.toFloatVector(), new ai.djl.ndarray.types.Shape(master.length()));
        }
        try (NoGradient off = NoGradient.scope()) {
            NDArray w = type.float32(params).toDevice(owner.getDevice(), true);
            w.attach(owner);
            return w;
        }
    }

    @Override
    public long deviceBytes() {
        return 0;
    }

    @Override
    public long hostBytes() {
        return 4 * (m.length() + v.length() + (master == null ? 0 : master.length()));
    }

    @Override
    public void close() {
        m.close();
        v.close();
        if (master != null) {
            master.close();
        }
    }
}
