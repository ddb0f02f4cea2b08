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
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A training forward whose linear layers run as OpenBLAS GEMMs outside libtorch's autograd, with their backward
 * done by hand. libtorch's CPU GEMMs are MKL's (an AVX2 path on AMD CPUs) or oneDNN's; OpenBLAS's AVX-512 kernels
 * ran the same forward + backward shapes 1.3× (projections) to 2.3× (a 32000-word head) faster on a 2-core AMD
 * EPYC (see {@link TrainingGemm}).
 *
 * <p>How the graph is cut: a linear layer's output is a new autograd leaf {@code y} computed by OpenBLAS from its
 * input {@code x}, LoRA branches included ({@code y_i += scale · dropout(x) A_i^T B_i^T}, rank-r GEMMs whose
 * backward is done by hand too); causal self-attention, from the q/k/v layer's leaf (biases and rotary embeddings
 * included) to its result, is such a leaf too ({@link TapedAttention}); everything else (norms, activations, the
 * other layers' biases, the loss) stays in autograd. Each layer's input is also made a leaf ({@link #cut}), so that
 * every backward call below stays inside one layer. {@link #backward} runs the loss's backward, then walks the
 * recorded steps in reverse: for a linear layer, {@code dX = dY W} (plus the branches' share) goes into autograd with
 * {@code x.backward(dX)}, and {@code dW = dY^T X} and the adapters' gradients are accumulated into each trainable
 * parameter's {@code .grad} (a leaf's backward); for attention, the gradient of the q/k/v leaf is accumulated into
 * that leaf's {@code .grad} (read by the q/k/v layer's step, next in the walk) and the biases' into theirs; for a
 * cut, the leaf's gradient continues into the previous layer. Reverse recording order is a topological order, so a
 * leaf's gradient is complete when its step is reached. Graph segments may be traversed by two of these calls (the
 * residual add under a norm), so the graph is kept until the forward's arrays are closed.
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
         * Sends the gradients of this step's outputs on to its inputs (into autograd, or into parameters'
         * {@code .grad}).
         *
         * @param manager where temporaries may be created (closed with the forward's arrays)
         */
        void backward(NDManager manager);
    }

    private final NDManager manager;
    private final List<Step> entries = new ArrayList<>();
    private final Map<Integer, NDArray> workspaces = new HashMap<>();
    /** The rotary tables of this forward as Java arrays, made by the first layer that asks. */
    private RotaryRows rotary;

    /**
     * A LoRA adapter on one weight of a taped linear layer: that weight's output gains
     * {@code scale · dropout(x) A^T B^T} (PEFT's {@code lora_B(lora_A(dropout(x))) * scaling}).
     *
     * @param a {@code lora_A [r, in]} float32
     * @param b {@code lora_B [out, r]} float32
     * @param scale {@code alpha / r} (or {@code alpha / sqrt(r)})
     */
    record Adapter(NDArray a, NDArray b, float scale) { }

    /**
     * A linear layer: {@code y [rows, Σ out_i] = x [rows, in] · [W_1; W_2; ...]^T}, plus the LoRA branches of its
     * weights.
     */
    private record Linear(NDArray x, FloatBuffer xs, NDArray[] weights, List<Branch> branches, NDArray y, int rows,
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

        // dX = dY [W_1; W_2; ...] plus the branches' share, sent on into the graph: x always descends from a cut's
        // leaf, so it is in the graph (DJL's requiresGrad answers for leaves only, so it is not asked); the branches
        // accumulate their adapters' gradients on the way
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
            for (Branch branch : branches) {
                branch.backward(manager, dys, out, dxs);
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
     * One LoRA branch as it ran in the forward: its adapter, the first column of the layer's output it added to,
     * its (dropped-out) input and its rank-r activations {@code low = input A^T}, kept for the backward.
     */
    private record Branch(Adapter adapter, int col, int rows, int in, FloatBuffer input, BitSet dropped, float kept,
            NDArray low) {
        /**
         * Runs the branch and adds it to its columns of the layer's output.
         *
         * @param xs the layer's input {@code [rows, in]}
         * @param dropout the forward's LoRA dropout, or null; its mask is drawn here, in the order in which the
         *     autograd path draws it
         * @param ys the layer's output {@code [rows, out]}, its base product already in place
         * @param col the first column of this weight's output
         */
        static Branch forward(NDManager manager, Adapter adapter, FloatBuffer xs, int rows, int in,
                LoraDropout dropout, FloatBuffer ys, int out, int col) {
            int rank = (int) adapter.a().getShape().get(0);
            int width = (int) adapter.b().getShape().get(0);
            FloatBuffer input = xs;
            BitSet dropped = null;
            if (dropout != null) {
                input = floats(manager.create(new Shape(rows, in), DataType.FLOAT32));
                dropped = dropout.applyOnHost(xs, input, rows * in);
            }
            NDArray low = manager.create(new Shape(rows, rank), DataType.FLOAT32);
            FloatBuffer lows = floats(low);
            OpenBlas.gemm(false, true, rows, rank, in, 1f, input, in, floats(adapter.a()), in, 0f, lows, rank);
            OpenBlas.gemm(false, true, rows, width, rank, adapter.scale(), lows, rank, floats(adapter.b()), rank, 1f,
                    from(ys, col), out);
            return new Branch(adapter, col, rows, in, input, dropped, dropout == null ? 1f : dropout.keptScale(),
                    low);
        }

        /**
         * With {@code g = scale · dY_i B [rows, r]}: {@code dB += scale · dY_i^T low}, {@code dA += g^T input},
         * {@code dX += (g A) ∘ mask}.
         *
         * @param dys the layer's output gradient {@code [rows, out]}
         * @param dxs the layer's input gradient, accumulated into
         */
        void backward(NDManager manager, FloatBuffer dys, int out, FloatBuffer dxs) {
            NDArray a = adapter.a();
            NDArray b = adapter.b();
            int rank = (int) a.getShape().get(0);
            int width = (int) b.getShape().get(0);
            FloatBuffer dy = from(dys, col);
            NDArray g = manager.create(new Shape(rows, rank), DataType.FLOAT32);
            FloatBuffer gs = floats(g);
            OpenBlas.gemm(false, false, rows, rank, width, adapter.scale(), dy, out, floats(b), rank, 0f, gs, rank);
            if (JniUtils.requiresGrad(pt(b))) {
                NDArray db = manager.create(b.getShape(), DataType.FLOAT32);
                OpenBlas.gemm(true, false, width, rank, rows, adapter.scale(), dy, out, floats(low), rank, 0f,
                        floats(db), rank);
                accumulateGradient(b, db);
                db.close();
            }
            if (JniUtils.requiresGrad(pt(a))) {
                NDArray da = manager.create(a.getShape(), DataType.FLOAT32);
                OpenBlas.gemm(true, false, rank, in, rows, 1f, gs, rank, input, in, 0f, floats(da), in);
                accumulateGradient(a, da);
                da.close();
            }
            if (dropped == null) {
                OpenBlas.gemm(false, false, rows, in, rank, 1f, gs, rank, floats(a), in, 1f, dxs, in);
            } else {
                NDArray dInput = manager.create(new Shape(rows, in), DataType.FLOAT32);
                FloatBuffer di = floats(dInput);
                OpenBlas.gemm(false, false, rows, in, rank, 1f, gs, rank, floats(a), in, 0f, di, in);
                for (int i = 0, n = rows * in; i < n; i++) {
                    if (!dropped.get(i)) {
                        dxs.put(i, dxs.get(i) + di.get(i) * kept);
                    }
                }
                dInput.close();
            }
            g.close();
        }
    }

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
     * @param weights each {@code [out_i, in]} float32
     * @return the leaf {@code [..., Σ out_i]}
     */
    NDArray linear(NDArray x, NDArray... weights) {
        return linear(x, null, new Adapter[weights.length], weights);
    }

    /**
     * Multiplies {@code x} by the weights (stacked by rows, as one projection whose outputs are concatenated), each
     * with its LoRA branch when it has one.
     *
     * @param x {@code [..., in]} float32
     * @param dropout the forward's LoRA dropout, or null for none
     * @param adapters each weight's adapter, or null where it has none
     * @param weights each {@code [out_i, in]} float32
     * @return the leaf {@code [..., Σ out_i]}
     */
    NDArray linear(NDArray x, LoraDropout dropout, Adapter[] adapters, NDArray... weights) {
        FloatBuffer xs = floats(x);
        NDArray y = multiply(manager, x.getShape(), xs, weights);
        int in = (int) x.getShape().get(x.getShape().dimension() - 1);
        int rows = (int) (x.size() / in);
        int out = (int) y.getShape().get(y.getShape().dimension() - 1);
        List<Branch> branches = new ArrayList<>();
        FloatBuffer ys = floats(y);
        int col = 0;
        for (int i = 0; i < weights.length; i++) {
            if (adapters[i] != null) {
                branches.add(Branch.forward(manager, adapters[i], xs, rows, in, dropout, ys, out, col));
            }
            col += (int) weights[i].getShape().get(0);
        }
        y.setRequiresGradient(true);
        entries.add(new Linear(x, xs, weights, branches, y, rows, in, out));
        return y;
    }

    /**
     * Causal self-attention on OpenBLAS from a layer's fused q/k/v leaf to the attention's result, biases and rotary
     * embeddings included ({@link TapedAttention}); its backward adds to the leaf's and the biases' gradients.
     *
     * @param qkv the leaf of the layer's q/k/v {@link #linear} (recorded before) and the projections' biases
     * @param cos rotary {@code cos [B,1,T,D]} float32, or null for a model without rotary positions
     * @param sin rotary {@code sin [B,1,T,D]} float32, or null for a model without rotary positions
     * @param mask additive float32 mask {@code [B,1,T,T]}, or null
     * @param scale what the scores {@code Q K^T} are multiplied by
     * @return the attention's result {@code [B,T,H*D]}, a leaf
     */
    NDArray attention(TapedAttention.FusedQkv qkv, NDArray cos, NDArray sin, NDArray mask, float scale) {
        TapedAttention step = TapedAttention.forward(this, manager, qkv, cos, sin, mask, scale);
        entries.add(step);
        return step.output();
    }

    /**
     * The rotary tables of this forward as Java arrays, copied once for all layers (every layer of a forward rotates
     * with the same {@code cos}/{@code sin} arrays).
     *
     * @param cos {@code [B,1,T,D]} float32
     * @param sin {@code [B,1,T,D]} float32
     * @return the tables' rows
     */
    RotaryRows rotaryRows(NDArray cos, NDArray sin) {
        if (rotary == null || !rotary.isOf(cos, sin)) {
            rotary = new RotaryRows(cos, sin);
        }
        return rotary;
    }

    /**
     * A float32 array that steps may overwrite at will during their forward or their backward (never across a
     * call), shared by all of them: one allocation per tape and slot instead of one per layer and pass. Fresh
     * memory costs a page fault per 4 KiB page on first touch, which made a new 12.6 MB attention buffer per
     * layer's backward cost ~35 ms here; reused, it costs nothing.
     *
     * @param slot which of the tape's workspaces (a step that needs two at once takes slots 0 and 1)
     * @param shape the shape wanted
     * @return the array, of that shape, with unspecified values
     */
    NDArray workspace(int slot, Shape shape) {
        NDArray w = workspaces.get(slot);
        if (w == null || !w.getShape().equals(shape)) {
            if (w != null) {
                w.close();
            }
            w = manager.create(shape, DataType.FLOAT32);
            workspaces.put(slot, w);
        }
        return w;
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
        workspaces.values().forEach(NDArray::close);
        workspaces.clear();
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
