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
import org.llmkit.api.tensor.TorchOps;

/**
 * A training forward whose linear layers run as OpenBLAS GEMMs outside libtorch's autograd, with their backward
 * done by hand. libtorch's CPU GEMMs are MKL's (an AVX2 path on AMD CPUs) or oneDNN's; OpenBLAS's AVX-512 kernels
 * ran the same forward + backward shapes 1.3× (projections) to 2.3× (a 32000-word head) faster on a 2-core AMD
 * EPYC (see {@link TrainingGemm}).
 *
 * <p>How the graph is cut: a linear layer's output is a new autograd leaf {@code y} computed by OpenBLAS from its
 * input {@code x}, LoRA branches included ({@code y_i += scale · dropout(x) A_i^T B_i^T}, rank-r GEMMs whose
 * backward is done by hand too; without dropout the branches of one layer share their passes over {@code x});
 * causal self-attention, from the q/k/v layer's leaf (biases and rotary embeddings included) to its result, is such
 * a leaf too ({@link TapedAttention}); a training loss's cross-entropy is computed on the host from the head's
 * logits, its gradient handed straight to the head's step ({@link #crossEntropy}); everything else (norms,
 * activations, residual adds, the other layers' biases) stays in autograd. Each layer's input is also made a leaf
 * ({@link #cut}), so that every backward call below stays inside one layer. {@link #backward()} walks the recorded
 * steps in reverse: for a linear layer, {@code dX = dY W} (plus the branches' share) goes into autograd with
 * {@code x.backward(dX)}, and {@code dW = dY^T X} and the adapters' gradients are added to each trainable
 * parameter's {@code .grad} (by the GEMM itself once the gradient exists, see {@link #accumulateProduct}); for
 * attention, the gradient of the q/k/v leaf is handed to the q/k/v layer's step, next in the walk
 * ({@link #handGradient}), and the biases' go into their {@code .grad}; for a cut, the leaf's gradient continues
 * into the previous layer. Reverse recording order is a topological order, so a leaf's gradient is complete when its step
 * is reached. Graph segments may be traversed by two of these calls (the residual add under a norm), so the graph
 * is kept until the forward's arrays are closed.
 *
 * <p>Gradients equal autograd's up to float32 summation order. Not thread-safe: one forward and its backward.
 */
final class BlasTape {
    /**
     * One recorded operation whose backward the tape runs by hand, after the loss's gradient is in place (autograd's
     * backward of the loss, or {@link #crossEntropy}'s hand-off) and the backward of every step recorded after it:
     * its outputs' gradients are then complete.
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
    private final TorchOps ops;
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
     * weights. Its output gradient is {@code y}'s {@code .grad}, or one handed to it ({@link #crossEntropy}).
     */
    private static final class Linear implements Step {
        private final NDArray x;
        private final FloatBuffer xs;
        private final NDArray[] weights;
        private final List<Branches> branches;
        private final NDArray y;
        private final int rows;
        private final int in;
        private final int out;
        private NDArray handed;
        private float handedScale;

        Linear(NDArray x, FloatBuffer xs, NDArray[] weights, List<Branches> branches, NDArray y, int rows,
                int in, int out) {
            this.x = x;
            this.xs = xs;
            this.weights = weights;
            this.branches = branches;
            this.y = y;
            this.rows = rows;
            this.in = in;
            this.out = out;
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
            inputGradient(manager, dys, alpha);
            weightGradients(manager, dys, alpha);
            dy.close();
        }

        // dX = alpha dY [W_1; W_2; ...] plus the branches' share, sent on into the graph: x always descends from a
        // cut's leaf, so it is in the graph (DJL's requiresGrad answers for leaves only, so it is not asked); the
        // branches accumulate their adapters' gradients on the way
        private void inputGradient(NDManager manager, FloatBuffer dys, float alpha) {
            NDArray dx = manager.create(x.getShape(), DataType.FLOAT32);
            FloatBuffer dxs = floats(dx);
            int col = 0;
            for (NDArray w : weights) {
                int n = (int) w.getShape().get(0);
                OpenBlas.gemm(false, false, rows, in, n, alpha, from(dys, col), out, floats(w), in,
                        col == 0 ? 0f : 1f, dxs, in);
                col += n;
            }
            for (Branches branch : branches) {
                branch.backward(manager, dys, alpha, out, dxs);
            }
            JniUtils.backward(pt(x), pt(dx), true, false);
            dx.close();
        }

        // dW_i = alpha dY_i^T X, accumulated into each trainable weight's .grad
        private void weightGradients(NDManager manager, FloatBuffer dys, float alpha) {
            int col = 0;
            for (NDArray w : weights) {
                int n = (int) w.getShape().get(0);
                if (JniUtils.requiresGrad(pt(w))) {
                    FloatBuffer dy = from(dys, col);
                    accumulateProduct(manager, w, (c, beta) -> OpenBlas.gemm(true, false, n, in, rows, alpha, dy,
                            out, xs, in, beta, c, in));
                }
                col += n;
            }
        }
    }

    /**
     * LoRA branches of a taped linear layer's weights that read one input, as they ran in the forward: the layer's
     * input itself (all the layer's branches, without dropout), or one branch's dropped-out copy of it. Their
     * {@code A} matrices are stacked into one {@code [Σ r_i, in]}, so that the rank-r products that read or write
     * input-sized arrays ({@code x A^T}, {@code g^T x}, {@code g A}) run once for all of them rather than once per
     * branch; each {@code B} side runs per branch, on that weight's columns of the output. Each product is the
     * per-branch one with the other branches' columns beside it: the same results up to float32 summation order.
     *
     * @param adapters the branches' adapters
     * @param cols the first output column of each branch's weight
     * @param offsets the first row of each branch's {@code A} in {@code aStack} (and column in {@code low})
     * @param ranks {@code Σ r_i}
     * @param xs the branches' input {@code [rows, in]}
     * @param dropped for one branch's dropped-out input, the zeroed positions (the others were multiplied by
     *     {@code kept}); null when the input is the layer's own
     * @param kept the dropout's scale of the kept elements
     * @param aStack the stacked {@code A} matrices (the adapter's own {@code A} when there is one branch)
     * @param low {@code xs aStack^T [rows, Σ r_i]}
     */
    private record Branches(Adapter[] adapters, int[] cols, int[] offsets, int ranks, int rows, int in,
            FloatBuffer xs, BitSet dropped, float kept, NDArray aStack, NDArray low) {
        /**
         * Runs the branches and adds them to their columns of the layer's output.
         *
         * @param adapters each weight's adapter, or null where it has none or its branch is run apart (at least
         *     one is not null; exactly one when {@code dropped} is not null)
         * @param widths each weight's output rows
         * @param xs the branches' input {@code [rows, in]}
         * @param dropped see the record; null for none
         * @param kept see the record
         * @param ys the layer's output {@code [rows, out]}, its base product already in place
         */
        static Branches forward(NDManager manager, Adapter[] adapters, int[] widths, FloatBuffer xs, int rows,
                int in, BitSet dropped, float kept, FloatBuffer ys, int out) {
            List<Adapter> present = new ArrayList<>();
            List<Integer> colList = new ArrayList<>();
            int col = 0;
            for (int i = 0; i < adapters.length; i++) {
                if (adapters[i] != null) {
                    present.add(adapters[i]);
                    colList.add(col);
                }
                col += widths[i];
            }
            Adapter[] used = present.toArray(new Adapter[0]);
            if (dropped != null && used.length != 1) {
                throw new IllegalArgumentException("a dropped-out input belongs to one branch, found " + used.length);
            }
            int[] cols = colList.stream().mapToInt(Integer::intValue).toArray();
            int[] offsets = new int[used.length];
            int ranks = 0;
            for (int i = 0; i < used.length; i++) {
                offsets[i] = ranks;
                ranks += (int) used[i].a().getShape().get(0);
            }
            NDArray aStack = used.length == 1 ? used[0].a() : manager.create(new Shape(ranks, in), DataType.FLOAT32);
            if (used.length > 1) {
                FloatBuffer stack = floats(aStack);
                for (int i = 0; i < used.length; i++) {
                    stack.position(offsets[i] * in);
                    stack.put(floats(used[i].a()));
                }
            }
            Branches branches = new Branches(used, cols, offsets, ranks, rows, in, xs, dropped, kept, aStack,
                    manager.create(new Shape(rows, ranks), DataType.FLOAT32));
            branches.addTo(ys, out);
            return branches;
        }

        // low = xs aStack^T, then y_i += scale_i low_i B_i^T, by rows
        private void addTo(FloatBuffer ys, int out) {
            FloatBuffer lows = floats(low);
            FloatBuffer as = floats(aStack);
            int n = adapters.length;
            FloatBuffer[] bs = bValues();
            int[] outs = widths();
            GemmWorkers.split(rows, (from, to) -> {
                OpenBlas.gemm(false, true, to - from, ranks, in, 1f, from(xs, from * in), in, as, in, 0f,
                        from(lows, from * ranks), ranks);
                for (int i = 0; i < n; i++) {
                    OpenBlas.gemm(false, true, to - from, outs[i], rank(i), adapters[i].scale(),
                            from(lows, from * ranks + offsets[i]), ranks, bs[i], rank(i), 1f,
                            from(ys, from * out + cols[i]), out);
                }
            });
        }

        /**
         * With {@code g_i = alpha · scale_i · dY_i B_i} side by side in {@code g [rows, Σ r_i]}:
         * {@code dB_i += alpha · scale_i · dY_i^T low_i}, {@code [dA_1; dA_2; ...] += g^T xs},
         * {@code dX += (g aStack) ∘ mask}. Each product runs as parts side by side ({@link GemmWorkers#split}):
         * by rows where each row of the result reads its own rows, by the result's rows or columns where the
         * product sums over rows.
         *
         * @param manager where temporaries may be created
         * @param dys the layer's output gradient {@code [rows, out]}, to be multiplied by {@code alpha}
         * @param alpha the scale of {@code dys}
         * @param out the layer's output width
         * @param dxs the layer's input gradient {@code [rows, in]}, accumulated into
         */
        void backward(NDManager manager, FloatBuffer dys, float alpha, int out, FloatBuffer dxs) {
            NDArray g = manager.create(new Shape(rows, ranks), DataType.FLOAT32);
            FloatBuffer gs = floats(g);
            FloatBuffer lows = floats(low);
            int n = adapters.length;
            FloatBuffer[] bs = bValues();
            int[] outs = widths();
            float[] scales = new float[n];
            for (int i = 0; i < n; i++) {
                scales[i] = alpha * adapters[i].scale();
            }
            GemmWorkers.split(rows, (from, to) -> {
                for (int i = 0; i < n; i++) {
                    OpenBlas.gemm(false, false, to - from, rank(i), outs[i], scales[i],
                            from(dys, from * out + cols[i]), out, bs[i], rank(i), 0f,
                            from(gs, from * ranks + offsets[i]), ranks);
                }
            });
            boolean anyA = false;
            for (int i = 0; i < n; i++) {
                NDArray b = adapters[i].b();
                if (JniUtils.requiresGrad(pt(b))) {
                    int rank = rank(i);
                    int width = outs[i];
                    float scale = scales[i];
                    FloatBuffer dy = from(dys, cols[i]);
                    FloatBuffer lowI = from(lows, offsets[i]);
                    // dB_i's rows [from, to) read dY_i's columns [from, to)
                    accumulateProduct(manager, b, (c, beta) -> GemmWorkers.split(width, (from, to) ->
                            OpenBlas.gemm(true, false, to - from, rank, rows, scale, from(dy, from), out, lowI, ranks,
                                    beta, from(c, from * rank), rank)));
                }
                anyA |= JniUtils.requiresGrad(pt(adapters[i].a()));
            }
            if (anyA && n == 1) {
                accumulateProduct(manager, adapters[0].a(), (c, beta) -> aGradient(gs, c, beta));
            } else if (anyA) {
                NDArray da = manager.create(new Shape(ranks, in), DataType.FLOAT32);
                aGradient(gs, floats(da), 0f);
                for (int i = 0; i < n; i++) {
                    NDArray a = adapters[i].a();
                    if (JniUtils.requiresGrad(pt(a))) {
                        try (NDArray rowsOfA = da.get(offsets[i] + ":" + (offsets[i] + rank(i)))) {
                            accumulateGradient(a, rowsOfA);
                        }
                    }
                }
                da.close();
            }
            inputGradient(manager, gs, dxs);
            g.close();
        }

        private int rank(int i) {
            return (i + 1 < offsets.length ? offsets[i + 1] : ranks) - offsets[i];
        }

        // each B's values and output rows, read here so that parts on helper threads make no libtorch call
        private FloatBuffer[] bValues() {
            FloatBuffer[] bs = new FloatBuffer[adapters.length];
            for (int i = 0; i < bs.length; i++) {
                bs[i] = floats(adapters[i].b());
            }
            return bs;
        }

        private int[] widths() {
            int[] widths = new int[adapters.length];
            for (int i = 0; i < widths.length; i++) {
                widths[i] = (int) adapters[i].b().getShape().get(0);
            }
            return widths;
        }

        // [dA_1; dA_2; ...] = g^T xs + beta · c, its columns [from, to) reading xs's columns [from, to)
        private void aGradient(FloatBuffer gs, FloatBuffer c, float beta) {
            GemmWorkers.split(in, (from, to) -> OpenBlas.gemm(true, false, ranks, to - from, rows, 1f, gs, ranks,
                    from(xs, from), in, beta, from(c, from), in));
        }

        // dX += (g aStack) ∘ mask, by rows
        private void inputGradient(NDManager manager, FloatBuffer gs, FloatBuffer dxs) {
            FloatBuffer as = floats(aStack);
            if (dropped == null) {
                GemmWorkers.split(rows, (from, to) -> OpenBlas.gemm(false, false, to - from, in, ranks, 1f,
                        from(gs, from * ranks), ranks, as, in, 1f, from(dxs, from * in), in));
                return;
            }
            NDArray dInput = manager.create(new Shape(rows, in), DataType.FLOAT32);
            FloatBuffer di = floats(dInput);
            GemmWorkers.split(rows, (from, to) -> OpenBlas.gemm(false, false, to - from, in, ranks, 1f,
                    from(gs, from * ranks), ranks, as, in, 0f, from(di, from * in), in));
            for (int i = 0, size = rows * in; i < size; i++) {
                if (!dropped.get(i)) {
                    dxs.put(i, dxs.get(i) + di.get(i) * kept);
                }
            }
            dInput.close();
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
        this(manager, null);
    }

    /**
     * @param manager where the forward's and backward's arrays live (closed by the caller after the backward)
     * @param ops the model's TorchScript ops, for what DJL cannot do in place; null to do without them (the loss
     *     then holds one more logits-sized array while it runs)
     */
    BlasTape(NDManager manager, TorchOps ops) {
        this.manager = manager;
        this.ops = ops;
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
        List<Branches> branches = new ArrayList<>();
        FloatBuffer ys = floats(y);
        int[] widths = new int[weights.length];
        boolean anyAdapter = false;
        for (int i = 0; i < weights.length; i++) {
            widths[i] = (int) weights[i].getShape().get(0);
            anyAdapter |= adapters[i] != null;
        }
        if (anyAdapter && dropout == null) {
            branches.add(Branches.forward(manager, adapters, widths, xs, rows, in, null, 1f, ys, out));
        } else if (anyAdapter) {
            // each branch drops out its own copy of x (masks drawn in the autograd path's order): nothing to share
            for (int i = 0; i < weights.length; i++) {
                if (adapters[i] != null) {
                    FloatBuffer input = floats(manager.create(new Shape(rows, in), DataType.FLOAT32));
                    BitSet dropped = dropout.applyOnHost(xs, input, rows * in);
                    Adapter[] one = new Adapter[weights.length];
                    one[i] = adapters[i];
                    branches.add(Branches.forward(manager, one, widths, input, rows, in, dropped,
                            dropout.keptScale(), ys, out));
                }
            }
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
        backward();
    }

    /**
     * Backpropagates through the whole forward from the gradient {@link #crossEntropy} handed to the last layer.
     */
    void backward() {
        for (int i = entries.size() - 1; i >= 0; i--) {
            entries.get(i).backward(manager);
        }
        workspaces.values().forEach(NDArray::close);
        workspaces.clear();
    }

    /**
     * The weighted mean cross-entropy of the logits that the last recorded step, a {@link #linear} layer, produced,
     * with its gradient handed straight to that layer: {@code factor · w_r / count · (softmax(x_r) - onehot(t_r))}
     * per row. libtorch's log-softmax runs once (the loss reads the targets' log-probabilities from it) and its
     * exponential gives the probabilities; the rows' targets and weights are applied on the host, and the common
     * scale {@code factor / count} goes into the layer's backward GEMMs. The backward of autograd's gather and
     * log-softmax (a zero-filled logits-sized gradient, then another read and written) never runs, and at most
     * three logits-sized arrays live at once (logits, log-probabilities, probabilities; the second freed at once)
     * where autograd's path holds four until the head's backward: 6 GiB instead of 8 for a 128K-word vocabulary
     * and 4096 positions. Then call {@link #backward()}.
     *
     * @param logits {@code [..., V]} float32, the leaf of the last recorded step
     * @param targets each row's target word
     * @param weights each row's weight (0 leaves the row unscored)
     * @param count what the weighted sum is divided by (positive)
     * @param factor what the loss is multiplied by before backpropagating (accumulation, loss scaling)
     * @return the loss (not multiplied by {@code factor})
     */
    float crossEntropy(NDArray logits, long[] targets, float[] weights, float count, float factor) {
        Step last = entries.isEmpty() ? null : entries.get(entries.size() - 1);
        if (!(last instanceof Linear) || ((Linear) last).y != logits) {
            throw new IllegalStateException("crossEntropy needs the logits of the tape's last linear layer");
        }
        int vocab = (int) logits.getShape().get(logits.getShape().dimension() - 1);
        int rows = (int) (logits.size() / vocab);
        if (targets.length != rows || weights.length != rows) {
            throw new IllegalArgumentException(rows + " logit rows but " + targets.length + " targets and "
                    + weights.length + " weights");
        }
        NDArray probabilities;
        double sum = 0;
        try (NoGradient off = NoGradient.scope()) {
            NDArray logProbabilities = logits.logSoftmax(-1);
            FloatBuffer lps = floats(logProbabilities);
            for (int r = 0; r < rows; r++) {
                if (weights[r] != 0f) {
                    int t = Math.toIntExact(targets[r]);
                    if (t < 0 || t >= vocab) {
                        logProbabilities.close();
                        throw new IllegalArgumentException("target " + t + " of row " + r
                                + " is outside the vocabulary of " + vocab);
                    }
                    sum -= weights[r] * lps.get(r * vocab + t);
                }
            }
            // libtorch's log-softmax then exp: 5x faster than its softmax over 32000 words here; in place when
            // the model's ops are at hand (a 128K-word vocabulary at 4096 positions: 2 GiB less)
            if (ops != null) {
                ops.expInPlace(logProbabilities);
                probabilities = logProbabilities;
            } else {
                probabilities = logProbabilities.exp();
                logProbabilities.close();
            }
        }
        FloatBuffer ps = floats(probabilities);
        for (int r = 0; r < rows; r++) {
            int base = r * vocab;
            float w = weights[r];
            if (w == 0f) {
                for (int j = 0; j < vocab; j++) {
                    ps.put(base + j, 0f);
                }
                continue;
            }
            int t = (int) targets[r];
            ps.put(base + t, ps.get(base + t) - 1f);
            if (w != 1f) {
                for (int j = 0; j < vocab; j++) {
                    ps.put(base + j, ps.get(base + j) * w);
                }
            }
        }
        handGradient(logits, probabilities, factor / count);
        return (float) (sum / count);
    }

    /**
     * Hands a step's gradient for its input {@code y} straight to the step of the {@link #linear} layer that made
     * {@code y}, instead of adding it to {@code y}'s {@code .grad} (which would copy it, as libtorch keeps a
     * gradient it did not make): that layer's backward reads it, scaled, and closes it. For a {@code y} no linear
     * layer of this tape made (a leaf of the caller's), it is added to {@code y}'s {@code .grad} and closed.
     *
     * @param y the leaf the gradient belongs to
     * @param dy the gradient, of {@code y}'s shape, float32, contiguous; the tape closes it
     * @param scale what {@code dy} is multiplied by
     */
    void handGradient(NDArray y, NDArray dy, float scale) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (entries.get(i) instanceof Linear linear && linear.y == y) {
                linear.handGradient(dy, scale);
                return;
            }
        }
        try (NoGradient off = NoGradient.scope()) {
            accumulateGradient(y, scale == 1f ? dy : dy.muli(scale));
        }
        dy.close();
    }

    /** {@link #handGradient(NDArray, NDArray, float)} with scale 1. */
    void handGradient(NDArray y, NDArray dy) {
        handGradient(y, dy, 1f);
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

    /** A product written into {@code c} with {@code c = product + beta · c}. */
    @FunctionalInterface
    interface ProductInto {
        /**
         * @param c where the product goes
         * @param beta 0 (overwrite) or 1 (add to what {@code c} holds)
         */
        void run(FloatBuffer c, float beta);
    }

    /**
     * Adds a product to a leaf's {@code .grad}, as {@link #accumulateGradient} would: straight into the gradient's
     * memory ({@code beta = 1}) when it already exists as a contiguous float32 array (from the second step on, as
     * optimizers zero gradients in place), else through a temporary. The first spares a weight-sized temporary and
     * a pass over it per step.
     *
     * @param manager where a temporary may be created
     * @param leaf a parameter that requires gradients
     * @param product the product, of the leaf's shape
     */
    static void accumulateProduct(NDManager manager, NDArray leaf, ProductInto product) {
        NDArray grad = JniUtils.getGradient(pt(leaf));
        if (grad != null) {
            try {
                if (grad.getDataType() == DataType.FLOAT32 && grad.getShape().equals(leaf.getShape())
                        && TorchTensors.isContiguous(grad)) {
                    product.run(floats(grad), 1f);
                    return;
                }
            } finally {
                grad.close();
            }
        }
        NDArray g = manager.create(leaf.getShape(), DataType.FLOAT32);
        product.run(floats(g), 0f);
        accumulateGradient(leaf, g);
        g.close();
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
