package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A training forward whose linear layers run as OpenBLAS GEMMs outside libtorch's autograd, with their backward
 * done by hand. libtorch's CPU GEMMs are MKL's (an AVX2 path on AMD CPUs) or oneDNN's; OpenBLAS's AVX-512 kernels
 * ran the same forward + backward shapes 1.3× (projections) to 2.3× (a 32000-word head) faster on a 2-core AMD
 * EPYC (see {@link TrainingGemm}).
 *
 * <p>How the graph is cut: a linear layer's output is a new autograd leaf {@code y} computed by OpenBLAS from its
 * input {@code x}; everything else (norms, attention, activations, biases, LoRA branches, the loss) stays in
 * autograd. Each layer's input is also made a leaf ({@link #cut}), so that every backward call below stays inside
 * one layer, and side branches that read a linear layer's input (LoRA) read a leaf copy of it, whose gradient joins
 * {@code dX}. {@link #backward} runs the loss's backward, then walks the recorded entries in reverse: for a linear
 * layer, {@code dX = dY W} goes into autograd with {@code x.backward(dX)} and {@code dW = dY^T X} is accumulated
 * into each trainable weight's {@code .grad} (a leaf's backward); for a cut, the leaf's gradient continues into the
 * previous layer. Reverse recording order is a topological order, so a leaf's gradient is complete when its entry is
 * reached. Graph segments may be traversed by two of these calls (the residual add under a norm, a LoRA branch), so
 * the graph is kept until the forward's arrays are closed.
 *
 * <p>Gradients equal autograd's up to float32 summation order. Not thread-safe: one forward and its backward.
 */
final class BlasTape {
    /**
     * One recorded operation whose backward the tape runs by hand, after the loss's backward and the backward of
     * every step recorded after it: its outputs' gradients are then complete.
     */
    interface Step {
        /**
         * Sends the gradients of this step's outputs on to its inputs (into autograd, or into parameters' {@code .grad}).
         *
         * @param manager where temporaries may be created (closed with the forward's arrays)
         */
        void backward(NDManager manager);
    }

    private final NDManager manager;
    private final List<Step> entries = new ArrayList<>();

    /**
     * A linear layer: {@code y [rows, Σ out_i] = x [rows, in] · [W_1; W_2; ...]^T}; side branches that read the same
     * input (LoRA) read the leaf {@code branchInput} (or null), whose gradient joins {@code dX}.
     */
    private record Linear(NDArray x, FloatBuffer xs, NDArray[] weights, NDArray y, NDArray branchInput, int rows,
            int in, int out) implements Step {
        @Override
        public void backward(NDManager manager) {
            NDArray dy = JniUtils.getGradient(pt(y));
            if (dy == null) {
                return;
            }
            FloatBuffer dys = floats(dy);
            inputGradient(manager, dys);
            weightGradients(manager, dys);
            dy.close();
        }

        // dX = dY [W_1; W_2; ...] plus the side branches' gradient, sent on into the graph: x always descends from a
        // cut's leaf, so it is in the graph (DJL's requiresGrad answers for leaves only, so it is not asked)
        private void inputGradient(NDManager manager, FloatBuffer dys) {
            NDArray dx = manager.create(x.getShape(), DataType.FLOAT32);
            FloatBuffer dxs = floats(dx);
            int col = 0;
            for (NDArray w : weights) {
                int n = (int) w.getShape().get(0);
                OpenBlas.gemm(false, false, rows, in, n, 1f, from(dys, col), out, floats(w), in,
                        col == 0 ? 0f : 1f, dxs, in);
                col += n;
            }
            NDArray branch = branchInput == null ? null : JniUtils.getGradient(pt(branchInput));
            if (branch != null) {
                dx.addi(branch);
                branch.close();
            }
            JniUtils.backward(pt(x), pt(dx), true, false);
            dx.close();
        }

        // dW_i = dY_i^T X, accumulated into each trainable weight's .grad
        private void weightGradients(NDManager manager, FloatBuffer dys) {
            int col = 0;
            for (NDArray w : weights) {
                int n = (int) w.getShape().get(0);
                if (JniUtils.requiresGrad(pt(w))) {
                    NDArray dw = manager.create(w.getShape(), DataType.FLOAT32);
                    OpenBlas.gemm(true, false, n, in, rows, 1f, from(dys, col), out, xs, in, 0f, floats(dw), in);
                    accumulateGradient(w, dw);
                    dw.close();
                }
                col += n;
            }
        }
    }

    /**
     * What a taped product gives its layer.
     *
     * @param y the product, a leaf
     * @param input the leaf that side branches reading the same input must use instead of it (their gradient joins
     *     the product's own input gradient), or null when none was asked for
     */
    record Output(NDArray y, NDArray input) { }

    /** A layer boundary: {@code in} is a leaf holding {@code out}'s values; {@code out} may be outside the graph. */
    private record Cut(NDArray out, NDArray in, boolean outInGraph) implements Step {
        @Override
        public void backward(NDManager manager) {
            if (!outInGraph) {
                return;
            }
            NDArray g = JniUtils.getGradient(pt(in));
            if (g != null) {
                JniUtils.backward(pt(out), pt(g), true, false);
                g.close();
            }
        }
    }

    /**
     * @param manager where the forward's and backward's arrays live (closed by the caller after the backward)
     */
    BlasTape(NDManager manager) {
        this.manager = manager;
    }

    /**
     * Starts a new segment: returns a leaf with {@code x}'s values whose gradient {@link #backward} passes on to
     * {@code x}.
     *
     * @param x a layer's input
     * @param inGraph whether {@code x} depends on something that records gradients (a layer's output does; the
     *     embeddings do when the embedding tables train)
     * @return the leaf to run the layer on (always recording, so that the layer's inputs to its linear layers are
     *     in the graph)
     */
    NDArray cut(NDArray x, boolean inGraph) {
        NDArray in = x.stopGradient();
        in.setRequiresGradient(true);
        entries.add(new Cut(x, in, inGraph));
        return in;
    }

    /**
     * Multiplies {@code x} by the weights (stacked by rows, as one projection whose outputs are concatenated).
     *
     * @param x {@code [..., in]} float32
     * @param sideBranches whether side branches (LoRA) also read {@code x}: they then get a leaf of their own, so
     *     that no backward call reaches beyond this layer through them
     * @param weights each {@code [out_i, in]} float32
     * @return the leaf {@code [..., Σ out_i]} and the side branches' input
     */
    Output linear(NDArray x, boolean sideBranches, NDArray... weights) {
        FloatBuffer xs = floats(x);
        NDArray y = multiply(manager, x.getShape(), xs, weights);
        y.setRequiresGradient(true);
        NDArray branchInput = null;
        if (sideBranches) {
            branchInput = x.stopGradient();
            branchInput.setRequiresGradient(true);
        }
        int in = (int) x.getShape().get(x.getShape().dimension() - 1);
        entries.add(new Linear(x, xs, weights, y, branchInput, (int) (x.size() / in), in,
                (int) y.getShape().get(y.getShape().dimension() - 1)));
        return new Output(y, branchInput);
    }

    /**
     * The same product as {@link #linear}, recorded nowhere.
     *
     * @param manager where the result lives
     * @param x {@code [..., in]} float32
     * @param weights each {@code [out_i, in]} float32
     * @return {@code [..., Σ out_i]}
     */
    static NDArray product(NDManager manager, NDArray x, NDArray... weights) {
        return multiply(manager, x.getShape(), floats(x), weights);
    }

    private static NDArray multiply(NDManager manager, Shape shape, FloatBuffer xs, NDArray... weights) {
        int in = (int) shape.get(shape.dimension() - 1);
        int rows = (int) (shape.size() / in);
        int out = 0;
        for (NDArray w : weights) {
            if (w.getShape().get(1) != in) {
                throw new IllegalArgumentException("weight " + w.getShape() + " does not take inputs of " + in);
            }
            out += (int) w.getShape().get(0);
        }
        long[] dims = shape.getShape().clone();
        dims[dims.length - 1] = out;
        NDArray y = manager.create(new Shape(dims), DataType.FLOAT32);
        FloatBuffer ys = floats(y);
        int col = 0;
        for (NDArray w : weights) {
            int n = (int) w.getShape().get(0);
            OpenBlas.gemm(false, true, rows, n, in, 1f, xs, in, floats(w), in, 0f, from(ys, col), out);
            col += n;
        }
        return y;
    }

    /**
     * Backpropagates {@code loss} through the whole forward, accumulating into every trainable parameter's gradient
     * as {@code loss.backward()} would.
     *
     * @param loss a 0-dim float32 result of the recorded forward
     */
    void backward(NDArray loss) {
        JniUtils.backward(pt(loss), pt(loss.onesLike()), true, false);
        for (int i = entries.size() - 1; i >= 0; i--) {
            entries.get(i).backward(manager);
        }
    }

    /**
     * Records a step whose backward {@link #backward} runs by hand, in reverse recording order.
     *
     * @param step the step, recorded after every step whose outputs it reads
     */
    void record(Step step) {
        entries.add(step);
    }

    /**
     * Adds {@code g} to a leaf's {@code .grad} (allocating it the first time), as autograd would.
     *
     * @param leaf a parameter that requires gradients
     * @param g its gradient, of its shape
     */
    static void accumulateGradient(NDArray leaf, NDArray g) {
        JniUtils.backward(pt(leaf), pt(g), false, false);
    }

    /** @return the array as libtorch's */
    static PtNDArray pt(NDArray a) {
        return (PtNDArray) a;
    }

    /**
     * The array's float32 values: its own memory when contiguous (writes reach the array), else a contiguous copy
     * (for reading only).
     *
     * @param a a float32 array
     * @return its values from position 0
     */
    static FloatBuffer floats(NDArray a) {
        if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("OpenBLAS training GEMMs need float32 arrays, found " + a.getDataType());
        }
        return JniUtils.getByteBuffer(pt(a), true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** @return {@code b} from {@code offset} on, sharing its memory */
    static FloatBuffer from(FloatBuffer b, int offset) {
        return b.slice(offset, b.capacity() - offset);
    }
}
