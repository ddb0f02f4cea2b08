package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.accumulateGradient;
import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.from;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.llmkit.api.tensor.TorchOps;

/**
 * A training forward whose linear layers run as OpenBLAS GEMMs outside libtorch's autograd, with their backward
 * done by hand. libtorch's CPU GEMMs are MKL's (an AVX2 path on AMD CPUs) or oneDNN's; OpenBLAS's AVX-512 kernels
 * ran the same forward + backward shapes 1.3× (projections) to 2.3× (a 32000-word head) faster on a 2-core AMD
 * EPYC (see {@link TrainingGemm}).
 *
 * <p>How the graph is cut: a linear layer's output is a new autograd leaf {@code y} computed by OpenBLAS from its input
 * {@code x} ({@link TapedLinear}), LoRA branches included ({@code y_i += scale · dropout(x) A_i^T B_i^T}, rank-r GEMMs
 * whose backward is done by hand too, {@link LoraBranches}; without dropout the branches of one layer share their
 * passes over {@code x}); causal self-attention, from the q/k/v layer's leaf (biases and rotary embeddings included) to
 * its result, is such a leaf too ({@link TapedAttention}); a training loss's output projection and cross-entropy are
 * one step computed on the host a block of rows at a time, its input's gradient known at once ({@link
 * #linearCrossEntropy}); the embedding lookups are a leaf too, whose gradient's rows go straight into the tables'
 * {@code .grad} ({@link TapedEmbedding}); the decoder layers' RMSNorms and the gated MLP's SwiGLU are leaves with hand
 * backwards too ({@link TapedRmsNorm}, {@link TapedSwiGlu}), which the linear layers reading them hand their input's
 * gradient ({@link Producer}), as o_proj hands attention its own; everything else (the final norm, LayerNorms, other
 * activations, residual adds, the other layers' biases) stays in autograd. Each layer's input is also made a leaf
 * ({@link #cut}), so that every backward call below stays inside one layer. {@link #backward()} walks the recorded
 * steps in reverse: for a linear layer, {@code dX = dY W} (plus the branches' share) goes into autograd with {@code
 * x.backward(dX)} (or to the step that made {@code x}), and {@code dW = dY^T X} and the adapters' gradients are added
 * to each trainable parameter's {@code .grad} (by the GEMM itself once the gradient exists, see {@link
 * HostArrays#accumulateProduct}); for attention, the gradient of the q/k/v leaf is handed to the q/k/v layer's step,
 * next in the walk ({@link #handGradient}), and the biases' go into their {@code .grad}; for a cut, the leaf's gradient
 * continues into the previous layer. Reverse recording order is a topological order, so a leaf's gradient is complete
 * when its step is reached. Graph segments may be traversed by two of these calls (the residual add under a norm), so
 * the graph is kept until the forward's arrays are closed.
 *
 * <p>Gradients equal autograd's up to float32 summation order. Under an open {@link Autocast} the linear layers' and
 * the output projection's products (forward, input and weight gradients) are oneDNN's bfloat16 ones instead of
 * OpenBLAS's, everything else unchanged. Not thread-safe: one forward and its backward.
 */
final class BlasTape {
    /**
     * One recorded operation whose backward the tape runs by hand, after the loss's gradient is in place (autograd's
     * backward of the loss, or {@link #linearCrossEntropy}'s) and the backward of every step recorded after it:
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

    /**
     * A step whose output is a leaf that a later {@link #linear} layer reads: that layer hands it its input's
     * gradient ({@link #takeGradient}) instead of sending it into autograd, which would copy it into the leaf's
     * {@code .grad}.
     */
    interface Producer extends Step {
        /** @return whether {@code a} is this step's output */
        boolean produced(NDArray a);

        /**
         * Takes (a share of) the output's gradient, added to any taken before; the step closes it.
         *
         * @param g float32, contiguous, of the output's shape
         */
        void takeGradient(NDArray g);

        /**
         * @return whether the output's gradient leads anywhere: false when the step's input gradient goes nowhere
         *     and it trains nothing itself, so that the layer reading it need not compute it (autograd prunes such
         *     branches too)
         */
        default boolean wantsGradient() {
            return true;
        }
    }

    private final NDManager manager;
    private final TorchOps ops;
    private final Autocast autocast;
    private final List<Step> entries = new ArrayList<>();
    private final Map<Integer, NDArray> workspaces = new HashMap<>();
    /** The leaves of {@link #cut}s whose gradient goes nowhere (layer 0's input under frozen embeddings). */
    private final Set<NDArray> deadEnds = Collections.newSetFromMap(new IdentityHashMap<>());
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
        this(manager, ops, null);
    }

    /**
     * @param manager where the forward's and backward's arrays live (closed by the caller after the backward)
     * @param ops the model's TorchScript ops, or null (see {@link #BlasTape(NDManager, TorchOps)})
     * @param autocast an open BF16 autocast whose bf16 products replace the linear layers' and the output
     *     projection's float32 GEMMs, or null for float32
     */
    BlasTape(NDManager manager, TorchOps ops, Autocast autocast) {
        this.manager = manager;
        this.ops = ops;
        this.autocast = autocast;
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
        if (!inGraph) {
            deadEnds.add(in);
        }
        return in;
    }

    /**
     * Looks rows up in embedding tables on the host and adds them ({@link TapedEmbedding}): token embeddings, plus
     * learned positions where the model has them. Their backward adds the result's gradient rows to each trainable
     * table's {@code .grad}.
     *
     * @param shape the positions' shape
     * @param tables each {@code [V_i, C]} float32
     * @param ids each table's row for every position, in row-major order of {@code shape}
     * @return the leaf {@code [..., C]}, recording gradients when some table does
     */
    NDArray embedding(Shape shape, NDArray[] tables, long[][] ids) {
        TapedEmbedding step = TapedEmbedding.lookUp(manager, shape, tables, ids);
        entries.add(step);
        return step.output();
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
        NDArray bf16Weights = autocast == null ? null : autocast.weights(weights);
        NDArray y;
        if (bf16Weights == null) {
            y = multiply(manager, x.getShape(), xs, weights);
        } else {
            long in = x.getShape().get(x.getShape().dimension() - 1);
            long rows = x.size() / in;
            try (NoGradient off = NoGradient.scope()) {
                y = autocast.ops().linearBf16Into(x, bf16Weights, autocast.buffer(Autocast.Role.OPERAND, rows, in),
                        autocast.buffer(Autocast.Role.PRODUCT, rows, bf16Weights.getShape().get(0)));
            }
            y.attach(manager);
        }
        int in = (int) x.getShape().get(x.getShape().dimension() - 1);
        int rows = (int) (x.size() / in);
        int out = (int) y.getShape().get(y.getShape().dimension() - 1);
        List<LoraBranches> branches = new ArrayList<>();
        FloatBuffer ys = floats(y);
        int[] widths = new int[weights.length];
        boolean anyAdapter = false;
        for (int i = 0; i < weights.length; i++) {
            widths[i] = (int) weights[i].getShape().get(0);
            anyAdapter |= adapters[i] != null;
        }
        if (anyAdapter && dropout == null) {
            branches.add(LoraBranches.forward(manager, adapters, widths, xs, rows, in, null, 1f, ys, out));
        } else if (anyAdapter) {
            // each branch drops out its own copy of x (masks drawn in the autograd path's order): nothing to share
            for (int i = 0; i < weights.length; i++) {
                if (adapters[i] != null) {
                    FloatBuffer input = floats(manager.create(new Shape(rows, in), DataType.FLOAT32));
                    BitSet dropped = dropout.applyOnHost(xs, input, rows * in);
                    Adapter[] one = new Adapter[weights.length];
                    one[i] = adapters[i];
                    branches.add(LoraBranches.forward(manager, one, widths, input, rows, in, dropped,
                            dropout.keptScale(), ys, out));
                }
            }
        }
        y.setRequiresGradient(true);
        entries.add(new TapedLinear(x, xs, producerOf(x), weights, branches, y, rows, in, out,
                bf16Weights == null ? null : new TapedLinear.Bf16(autocast, bf16Weights)));
        return y;
    }

    // the recorded step that made x, when it takes its output's gradient by hand
    private Producer producerOf(NDArray x) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (entries.get(i) instanceof Producer p && p.produced(x)) {
                return p;
            }
        }
        return null;
    }

    /**
     * RMSNorm on the host with a hand backward ({@link TapedRmsNorm}): the linear layer that reads its result hands
     * it the gradient, and it sends its input's on into autograd.
     *
     * @param x {@code [..., C]} float32, in the graph
     * @param weight {@code [C]} float32
     * @param eps added to the mean square
     * @return {@code [..., C]}, a leaf
     */
    NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        TapedRmsNorm step = TapedRmsNorm.forward(manager, x, weight, eps, !deadEnds.contains(x));
        entries.add(step);
        return step.output();
    }

    /**
     * The gated MLP's activation {@code silu(g) · u} on the fused gate/up layer's leaf, with a hand backward
     * ({@link TapedSwiGlu}): the down projection that reads its result hands it the gradient, and it hands the
     * gate/up layer {@code [dg | du]}.
     *
     * @param y the leaf of this tape's {@link #linear} layer of the gate and up weights {@code [..., 2F]}, gate
     *     first
     * @param width F
     * @return {@code [..., F]}, a leaf
     * @throws IllegalStateException when the tape was made without the model's ops
     */
    NDArray swiglu(NDArray y, int width) {
        if (ops == null) {
            throw new IllegalStateException("the taped SwiGLU needs the model's TorchScript ops");
        }
        TapedSwiGlu step = TapedSwiGlu.forward(this, ops, y, width);
        entries.add(step);
        return step.output();
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
     * Backpropagates through the whole forward from the gradient {@link #linearCrossEntropy} computed.
     */
    void backward() {
        for (int i = entries.size() - 1; i >= 0; i--) {
            entries.get(i).backward(manager);
        }
        workspaces.values().forEach(NDArray::close);
        workspaces.clear();
    }

    /**
     * The output projection and the weighted mean cross-entropy of its logits, as one recorded step whose gradient is
     * known at once ({@link TapedCrossEntropy}: {@code dX} goes on into autograd at {@link #backward()}, {@code dW}
     * into the weight's {@code .grad} now, when it trains). Under {@link Autocast} its products are bfloat16 ones.
     * Then call {@link #backward()}: nothing may be recorded after this step.
     *
     * @param x {@code [..., C]} float32, the positions that predict (in the graph)
     * @param weight the output projection {@code [V, C]} float32
     * @param targets each row's target word
     * @param weights each row's weight (0 leaves the row unscored)
     * @param count what the weighted sum is divided by (positive)
     * @param factor what the loss is multiplied by before backpropagating (accumulation, loss scaling)
     * @return the loss (not multiplied by {@code factor})
     * @throws IllegalArgumentException when the shapes disagree or a scored row's target is outside the vocabulary
     */
    float linearCrossEntropy(NDArray x, NDArray weight, long[] targets, float[] weights, float count, float factor) {
        return linearCrossEntropy(x, weight, targets, weights, count, factor, TapedCrossEntropy.blockRows(weight));
    }

    /**
     * {@link #linearCrossEntropy(NDArray, NDArray, long[], float[], float, float)} with blocks of a given number of
     * rows.
     */
    float linearCrossEntropy(NDArray x, NDArray weight, long[] targets, float[] weights, float count, float factor,
            int blockRows) {
        TapedCrossEntropy step = TapedCrossEntropy.compute(manager, ops, autocast, x, weight, targets, weights, count,
                factor, blockRows);
        entries.add(step);
        return step.loss();
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
            if (entries.get(i) instanceof TapedLinear linear && linear.produced(y)) {
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

}
