package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.accumulateGradient;
import static org.llmkit.api.model.HostArrays.accumulateProduct;
import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.from;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import org.llmkit.api.tensor.LogSoftmax;
import org.llmkit.api.tensor.TorchOps;

/**
 * A training loss's output projection and weighted mean cross-entropy on the host ({@link
 * BlasTape#linearCrossEntropy}), as one recorded step whose input's gradient is known at once: per row,
 * {@code dlogits_r = factor · w_r / count · (softmax(x_r W^T) - onehot(t_r))}, {@code dX = dlogits W} (sent on into
 * autograd by its {@link #backward}) and {@code dW += dlogits^T X} (into the weight's {@code .grad} at once, when it
 * trains).
 *
 * <p>It runs a block of rows at a time, so the logits are never whole for long inputs: the block's logits (an
 * OpenBLAS GEMM), libtorch's softmax in place (one pass fewer than a log-softmax and its exponential; the loss is
 * {@code -log p} of the targets' probabilities, recomputed from the row's logits in double where a probability is
 * below 1e-20), the targets and the rows' weights applied on the host, then the block's {@code dX} and {@code dW}
 * GEMMs with {@code factor / count} as their scale. A block has at least 1024 rows, and as many as 256 MiB of logits
 * hold (2048 rows of a 32000-word vocabulary): each block re-reads (and OpenBLAS re-packs) the projection's weights,
 * which for smaller blocks cost more than the cache saved (with 256-row blocks an m100 LoRA step took 2.30 / 2.07 s
 * against 2.0 s). Autograd's path holds four arrays of all the logits until the head's backward (8 GiB for a
 * 128K-word vocabulary and 4096 positions); this step holds one block (512 MiB there). Without the model's ops, each
 * block's softmax is libtorch's out-of-place one. Under {@link Autocast} the three products of a block are bfloat16
 * ones; the softmax, the loss and the logits' gradient stay float32.
 */
final class TapedCrossEntropy implements BlasTape.Step {
    /** How many logits a block may hold beyond its minimum rows: 256 MiB. */
    private static final long BLOCK_ELEMENTS = 64L << 20;
    /** The fewest rows a block has (so that it re-reads the weights rarely). */
    private static final int MIN_BLOCK_ROWS = 1024;

    private final NDArray x;
    private final NDArray dx;
    private final float loss;

    private TapedCrossEntropy(NDArray x, NDArray dx, float loss) {
        this.x = x;
        this.dx = dx;
        this.loss = loss;
    }

    /**
     * @param weight the output projection {@code [V, C]}
     * @return the rows of a block for this vocabulary
     */
    static int blockRows(NDArray weight) {
        long vocab = Math.max(1, weight.getShape().get(0));
        return (int) Math.max(MIN_BLOCK_ROWS, BLOCK_ELEMENTS / vocab);
    }

    /**
     * Computes the loss and both gradients ({@code dW} into the weight's {@code .grad} now).
     *
     * @param manager where the input's gradient lives until {@link #backward}
     * @param ops the model's TorchScript ops (the in-place softmax), or null
     * @param autocast an open BF16 autocast, or null for float32 products
     * @param x {@code [..., C]} float32, the positions that predict (in the graph)
     * @param weight the output projection {@code [V, C]} float32
     * @param targets each row's target word
     * @param weights each row's weight (0 leaves the row unscored)
     * @param count what the weighted sum is divided by (positive)
     * @param factor what the loss is multiplied by before backpropagating
     * @param blockRows rows per block
     * @return the step, holding the loss and the input's gradient
     * @throws IllegalArgumentException when the shapes disagree or a scored row's target is outside the vocabulary
     */
    static TapedCrossEntropy compute(NDManager manager, TorchOps ops, Autocast autocast, NDArray x, NDArray weight,
            long[] targets, float[] weights, float count, float factor, int blockRows) {
        Shape shape = x.getShape();
        int in = (int) shape.get(shape.dimension() - 1);
        if (weight.getShape().dimension() != 2 || weight.getShape().get(1) != in) {
            throw new IllegalArgumentException("the output projection " + weight.getShape()
                    + " does not take inputs of " + in);
        }
        int vocab = (int) weight.getShape().get(0);
        int rows = (int) (x.size() / in);
        if (targets.length != rows || weights.length != rows) {
            throw new IllegalArgumentException(rows + " rows but " + targets.length + " targets and "
                    + weights.length + " weights");
        }
        for (int r = 0; r < rows; r++) {
            if (weights[r] != 0f && (targets[r] < 0 || targets[r] >= vocab)) {
                throw new IllegalArgumentException("target " + targets[r] + " of row " + r
                        + " is outside the vocabulary of " + vocab);
            }
        }
        if (autocast != null) {
            return bf16(manager, autocast, x, weight, targets, weights, count, factor, blockRows);
        }
        FloatBuffer xs = floats(x);
        FloatBuffer ws = floats(weight);
        boolean trainsWeight = JniUtils.requiresGrad(pt(weight));
        float alpha = factor / count;
        NDArray dx = manager.create(shape, DataType.FLOAT32);
        FloatBuffer dxs = floats(dx);
        double sum = 0;
        int block = Math.max(1, Math.min(rows, blockRows));
        try (NoGradient off = NoGradient.scope()) {
            NDArray logits = manager.create(new Shape(block, vocab), DataType.FLOAT32);
            try {
                for (int first = 0; first < rows; first += block) {
                    int n = Math.min(block, rows - first);
                    if (n != logits.getShape().get(0)) {
                        logits.close();
                        logits = manager.create(new Shape(n, vocab), DataType.FLOAT32);
                    }
                    FloatBuffer ls = floats(logits);
                    FloatBuffer xBlock = from(xs, first * in);
                    OpenBlas.gemm(false, true, n, vocab, in, 1f, xBlock, in, ws, in, 0f, ls, vocab);
                    NDArray own = null;   // libtorch's out-of-place result, without the model's ops
                    try {
                        FloatBuffer ps;
                        if (ops != null) {
                            ops.softmaxInPlace(logits);
                            ps = ls;
                        } else {
                            own = logits.softmax(-1);
                            ps = floats(own);
                        }
                        sum += blockLoss(ps, first, n, vocab, targets, weights, xBlock, ws, in);
                        blockGradient(ps, first, n, vocab, targets, weights);
                        FloatBuffer dlogits = ps;
                        OpenBlas.gemm(false, false, n, in, vocab, alpha, dlogits, vocab, ws, in, 0f,
                                from(dxs, first * in), in);
                        if (trainsWeight) {
                            accumulateProduct(manager, weight, (c, beta) -> OpenBlas.gemm(true, false, vocab, in, n,
                                    alpha, dlogits, vocab, xBlock, in, beta, c, in));
                        }
                    } finally {
                        if (own != null) {
                            own.close();
                        }
                    }
                }
            } finally {
                logits.close();
            }
        }
        return new TapedCrossEntropy(x, dx, (float) (sum / count));
    }

    private static TapedCrossEntropy bf16(NDManager manager, Autocast autocast, NDArray x, NDArray weight,
            long[] targets, float[] weights, float count, float factor, int blockRows) {
        Shape shape = x.getShape();
        int in = (int) shape.get(shape.dimension() - 1);
        int vocab = (int) weight.getShape().get(0);
        int rows = (int) (x.size() / in);
        FloatBuffer xs = floats(x);
        FloatBuffer ws = floats(weight);
        boolean trainsWeight = JniUtils.requiresGrad(pt(weight));
        NDArray rounded = autocast.weights(new NDArray[] {weight});
        TorchOps bf16 = autocast.ops();
        float alpha = factor / count;
        NDArray dx = manager.create(shape, DataType.FLOAT32);
        FloatBuffer dxs = floats(dx);
        double sum = 0;
        int block = Math.max(1, Math.min(rows, blockRows));
        try (NoGradient off = NoGradient.scope(); NDManager scratch = manager.newSubManager()) {
            NDArray flat = x.reshape(rows, in);
            flat.attach(scratch);
            NDArray logits = scratch.create(new Shape(block, vocab), DataType.FLOAT32);
            for (int first = 0; first < rows; first += block) {
                int n = Math.min(block, rows - first);
                try (NDManager blockScope = scratch.newSubManager()) {
                    if (n != logits.getShape().get(0)) {
                        logits = scratch.create(new Shape(n, vocab), DataType.FLOAT32);
                    }
                    NDArray xBlock = flat.get(new NDIndex(first + ":" + (first + n)));
                    xBlock.attach(blockScope);
                    NDArray xRounded = autocast.buffer(Autocast.Role.OPERAND, n, in);
                    bf16.linearBf16WidenInto(xBlock, rounded, xRounded,
                            autocast.buffer(Autocast.Role.PRODUCT, n, vocab), logits);
                    bf16.softmaxInPlace(logits);
                    FloatBuffer ps = floats(logits);
                    sum += blockLoss(ps, first, n, vocab, targets, weights, from(xs, first * in), ws, in);
                    blockGradient(ps, first, n, vocab, targets, weights);
                    NDArray dlogits = bf16.roundInto(logits, autocast.buffer(Autocast.Role.SECOND_OPERAND, n, vocab));
                    dlogits.attach(blockScope);
                    NDArray dxBlock = bf16.matmulBf16Into(logits, dlogits, rounded,
                            autocast.buffer(Autocast.Role.PRODUCT, n, in));
                    dxBlock.attach(blockScope);
                    from(dxs, first * in).put(floats(dxBlock.muli(alpha)));
                    if (trainsWeight) {
                        NDArray g = bf16.weightGradientBf16(dlogits, xRounded, 0, vocab);
                        g.attach(blockScope);
                        accumulateGradient(weight, g.muli(alpha));
                    }
                }
            }
        }
        return new TapedCrossEntropy(x, dx, (float) (sum / count));
    }

    /** Below this a target's probability is recomputed from its logits ({@link #targetLogProbability}). */
    private static final float LEAST_PROBABILITY = 1e-20f;

    // - Σ w_r log p_r(t_r) over a block's rows, from their probabilities; a target's probability too small for its
    // logarithm to keep float32's precision (a loss above ~46) is recomputed from its logits
    private static double blockLoss(FloatBuffer probabilities, int first, int n, int vocab, long[] targets,
            float[] weights, FloatBuffer xBlock, FloatBuffer ws, int in) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float w = weights[first + i];
            if (w != 0f) {
                int t = (int) targets[first + i];
                float p = probabilities.get(i * vocab + t);
                sum -= w * (p >= LEAST_PROBABILITY ? Math.log(p)
                        : targetLogProbability(from(xBlock, i * in), ws, in, vocab, t));
            }
        }
        return sum;
    }

    // log softmax(x W^T)_t for one row, in double from its logits (a GEMV)
    private static double targetLogProbability(FloatBuffer x, FloatBuffer ws, int in, int vocab, int target) {
        float[] logits = new float[vocab];
        for (int j = 0; j < vocab; j++) {
            double dot = 0;
            for (int k = 0; k < in; k++) {
                dot += (double) x.get(k) * ws.get(j * in + k);
            }
            logits[j] = (float) dot;
        }
        return LogSoftmax.of(logits, target);
    }

    // a block's probabilities become w_r (p_r - onehot(t_r)): unscored rows zeroed
    private static void blockGradient(FloatBuffer probabilities, int first, int n, int vocab, long[] targets,
            float[] weights) {
        for (int i = 0; i < n; i++) {
            int base = i * vocab;
            float w = weights[first + i];
            if (w == 0f) {
                for (int j = 0; j < vocab; j++) {
                    probabilities.put(base + j, 0f);
                }
                continue;
            }
            int t = (int) targets[first + i];
            probabilities.put(base + t, probabilities.get(base + t) - 1f);
            if (w != 1f) {
                for (int j = 0; j < vocab; j++) {
                    probabilities.put(base + j, probabilities.get(base + j) * w);
                }
            }
        }
    }

    /** @return the loss (not multiplied by the factor) */
    float loss() {
        return loss;
    }

    @Override
    public void backward(NDManager manager) {
        JniUtils.backward(pt(x), pt(dx), true, false);
        dx.close();
    }
}
