package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * {@link ShardOptimizer} with DJL ops where the state lives: the rank's device, or (offload) a host-memory
 * manager, in which case gradients travel to it and updated weights travel back.
 */
final class DjlAdamW implements ShardOptimizer {
    private final ShardOptimizer.Hyper hyper;
    private final NDManager state;
    private final NDArray params;
    private final NDArray master;
    private final NDArray m;
    private final NDArray v;
    private final List<FlatLayout.Range> decayRuns;
    private final TensorType type;
    private final boolean host;
    private long steps;

    /**
     * @param hyper the hyper-parameters
     * @param stateManager where the moments (and master weights) live; closed with this optimizer
     * @param params the working parameters of the range, flat, on the rank's device (updated in place)
     * @param type the working parameters' type (FP32 needs no master copy)
     * @param decayRuns sub-ranges (relative to the range) that get weight decay
     * @param host whether {@code stateManager} is host memory distinct from the rank's device memory
     */
    DjlAdamW(ShardOptimizer.Hyper hyper, NDManager stateManager, NDArray params, TensorType type,
            List<FlatLayout.Range> decayRuns, boolean host) {
        this.hyper = hyper;
        this.state = stateManager;
        this.params = params;
        this.type = type;
        this.decayRuns = decayRuns;
        this.host = host;
        Shape shape = params.getShape();
        try (NoGradient off = NoGradient.scope()) {
            // FP32 trains the working weights themselves: no master copy (offload stages them through host memory)
            master = type.precision() != org.llmkit.api.Precision.FP32 ? toState(type.float32(params)) : null;
        }
        m = state.zeros(shape, DataType.FLOAT32);
        v = state.zeros(shape, DataType.FLOAT32);
    }

    private NDArray toState(NDArray x) {
        NDArray moved = x.toDevice(state.getDevice(), true);
        moved.attach(state);
        return moved;
    }

    @Override
    public void step(NDArray gradients, double lr) {
        steps++;
        try (NoGradient off = NoGradient.scope(); NDManager scratch = state.newSubManager()) {
            NDArray g = gradients;
            if (host) {
                g = gradients.toDevice(state.getDevice(), true);
                g.attach(scratch);
            }
            NDArray p = master != null ? master : params;
            if (master == null && host) {
                p = params.toDevice(state.getDevice(), true);
                p.attach(scratch);
            } else {
                p.tempAttach(scratch);
            }
            m.tempAttach(scratch);
            v.tempAttach(scratch);
            update(p, m, v, g, lr, steps, hyper, decayRuns);
            if (master != null) {
                LocalCollectives.copyInto(params, type.cast(master));
            } else if (host) {
                LocalCollectives.copyInto(params, p);
            }
        }
    }

    /**
     * The AdamW formula on flat float32 arrays, in place ({@link AdamW}'s, which matches torch).
     *
     * @param p parameters
     * @param m first moment
     * @param v second moment
     * @param g gradients
     * @param lr learning rate
     * @param t 1-based step
     * @param hyper the hyper-parameters
     * @param decayRuns sub-ranges that get weight decay
     */
    static void update(NDArray p, NDArray m, NDArray v, NDArray g, double lr, long t, ShardOptimizer.Hyper hyper,
            List<FlatLayout.Range> decayRuns) {
        if (hyper.weightDecay() != 0) {
            for (FlatLayout.Range r : decayRuns) {
                try (NDArray part = p.get(LocalCollectives.slice(r.start(), r.end()))) {
                    part.muli(1 - lr * hyper.weightDecay());
                }
            }
        }
        m.muli(hyper.beta1()).addi(g.mul(1 - hyper.beta1()));
        v.muli(hyper.beta2()).addi(g.mul(g).muli(1 - hyper.beta2()));
        NDArray denom = v.sqrt().divi(hyper.correction2(t)).addi(hyper.epsilon());
        p.subi(m.div(denom).muli(hyper.stepSize(lr, t)));
    }

    @Override
    public NDArray weights(NDManager owner) {
        try (NoGradient off = NoGradient.scope()) {
            NDArray source = master != null ? master : params;
            NDArray w = source.toDevice(owner.getDevice(), true);
            w.attach(owner);
            NDArray wide = type.float32(w);
            wide.attach(owner);
            return wide;
        }
    }

    @Override
    public long deviceBytes() {
        return host ? 0 : stateBytes();
    }

    @Override
    public long hostBytes() {
        return host ? stateBytes() : 0;
    }

    private long stateBytes() {
        long n = m.size() + v.size() + (master == null ? 0 : master.size());
        return 4 * n;
    }

    @Override
    public void close() {
        state.close();
    }
}
