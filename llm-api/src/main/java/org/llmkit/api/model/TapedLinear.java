package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.accumulateGradient;
import static org.llmkit.api.model.HostArrays.accumulateProduct;
import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.from;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import java.util.List;
import org.llmkit.api.tensor.TorchOps;

/**
 * A linear layer: {@code y [rows, Σ out_i] = x [rows, in] · [W_1; W_2; ...]^T}, plus the LoRA branches of its
 * weights. Its output gradient is {@code y}'s {@code .grad}, or one handed to it ({@link BlasTape#handGradient}).
 * Its products are OpenBLAS's float32 GEMMs, or bfloat16 ones under {@link Autocast} ({@link Bf16}).
 */
final class TapedLinear implements BlasTape.Step {
    /**
     * The bfloat16 products of a layer under {@link Autocast}.
     *
     * @param autocast the autocast whose ops multiply and whose buffers hold the rounded operands
     * @param weights the layer's weights stacked by rows, bf16 {@code [Σ out_i, in]}
     */
    record Bf16(Autocast autocast, NDArray weights) {
        TorchOps ops() {
            return autocast.ops();
        }
    }

    private final NDArray x;
    private final FloatBuffer xs;
    private final BlasTape.Producer source;
    private final NDArray[] weights;
    private final List<LoraBranches> branches;
    private final NDArray y;
    private final int rows;
    private final int in;
    private final int out;
    private final Bf16 bf16;
    private NDArray handed;
    private float handedScale;

    /**
     * @param source the step that made {@code x} and takes its gradient by hand, or null to send the gradient into
     *     autograd
     * @param bf16 the bfloat16 products under autocast, or null for OpenBLAS's float32 ones
     */
    TapedLinear(NDArray x, FloatBuffer xs, BlasTape.Producer source, NDArray[] weights, List<LoraBranches> branches,
            NDArray y, int rows, int in, int out, Bf16 bf16) {
        this.x = x;
        this.xs = xs;
        this.source = source;
        this.weights = weights;
        this.branches = branches;
        this.y = y;
        this.rows = rows;
        this.in = in;
        this.out = out;
        this.bf16 = bf16;
    }

    /** @return whether {@code a} is this layer's output */
    boolean produced(NDArray a) {
        return y == a;
    }

    /** Makes {@code scale · dy} this layer's output gradient, added to whatever {@code y}'s {@code .grad} holds. */
    void handGradient(NDArray dy, float scale) {
        if (handed != null) {
            throw new IllegalStateException("this linear layer's output gradient was handed over already");
        }
        handed = dy;
        handedScale = scale;
    }

    @Override
    public void backward(NDManager manager) {
        NDArray dy = JniUtils.getGradient(pt(y));
        float alpha = 1f;
        if (handed != null && dy == null) {
            dy = handed;
            alpha = handedScale;
        } else if (handed != null) {
            // y was read in autograd as well: both shares (not the case for the steps that hand one over)
            try (NoGradient off = NoGradient.scope(); NDArray fromGraph = dy) {
                dy = handed.muli(handedScale).addi(fromGraph);
            }
        }
        if (dy == null) {
            return;
        }
        FloatBuffer dys = floats(dy);
        NDArray dyRounded = null;
        if (bf16 != null) {
            try (NoGradient off = NoGradient.scope()) {
                dyRounded = bf16.ops().roundInto(dy, bf16.autocast().buffer(Autocast.Role.OPERAND, rows, out));
            }
        }
        inputGradient(manager, dy, dyRounded, dys, alpha);
        weightGradients(manager, dyRounded, dys, alpha);
        if (dyRounded != null) {
            dyRounded.close();
        }
        dy.close();
    }

    // dX = alpha dY [W_1; W_2; ...] plus the branches' share, handed to the step that made x or sent on into the
    // graph: x always descends from a cut's leaf, so it is in the graph (DJL's requiresGrad answers for leaves only,
    // so it is not asked); the branches accumulate their adapters' gradients on the way
    private void inputGradient(NDManager manager, NDArray dy, NDArray dyRounded, FloatBuffer dys, float alpha) {
        if (source != null && !source.wantsGradient()) {
            // x's gradient would go nowhere (layer 0's norm under frozen embeddings): only the adapters' gradients
            for (LoraBranches branch : branches) {
                branch.backward(manager, dys, alpha, out, null);
            }
            return;
        }
        NDArray dx;
        if (bf16 == null) {
            dx = manager.create(x.getShape(), DataType.FLOAT32);
            FloatBuffer dxs = floats(dx);
            int col = 0;
            for (NDArray w : weights) {
                int n = (int) w.getShape().get(0);
                OpenBlas.gemm(false, false, rows, in, n, alpha, from(dys, col), out, floats(w), in,
                        col == 0 ? 0f : 1f, dxs, in);
                col += n;
            }
        } else {
            try (NoGradient off = NoGradient.scope()) {
                dx = bf16.ops().matmulBf16Into(dy, dyRounded, bf16.weights(),
                        bf16.autocast().buffer(Autocast.Role.PRODUCT, rows, in));
                if (alpha != 1f) {
                    dx.muli(alpha);
                }
            }
            dx.attach(manager);
        }
        FloatBuffer dxs = floats(dx);
        for (LoraBranches branch : branches) {
            branch.backward(manager, dys, alpha, out, dxs);
        }
        if (source != null) {
            source.takeGradient(dx);
            return;
        }
        JniUtils.backward(pt(x), pt(dx), true, false);
        dx.close();
    }

    // dW_i = alpha dY_i^T X, accumulated into each trainable weight's .grad
    private void weightGradients(NDManager manager, NDArray dyRounded, FloatBuffer dys, float alpha) {
        int col = 0;
        NDArray xRounded = null;
        for (NDArray w : weights) {
            int n = (int) w.getShape().get(0);
            if (JniUtils.requiresGrad(pt(w))) {
                if (bf16 == null) {
                    FloatBuffer dy = from(dys, col);
                    accumulateProduct(manager, w, (c, beta) -> OpenBlas.gemm(true, false, n, in, rows, alpha, dy,
                            out, xs, in, beta, c, in));
                } else {
                    NDArray g;
                    try (NoGradient off = NoGradient.scope()) {
                        if (xRounded == null) {
                            xRounded = bf16.ops().roundInto(x,
                                    bf16.autocast().buffer(Autocast.Role.SECOND_OPERAND, rows, in));
                        }
                        g = bf16.ops().weightGradientBf16(dyRounded, xRounded, col, col + n);
                        if (alpha != 1f) {
                            g.muli(alpha);
                        }
                    }
                    accumulateGradient(w, g);
                    g.close();
                }
            }
            col += n;
        }
        if (xRounded != null) {
            xRounded.close();
        }
    }
}
