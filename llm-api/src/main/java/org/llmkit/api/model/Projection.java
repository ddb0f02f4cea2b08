package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import java.util.Map;

/**
 * A linear layer {@code y = x W^T + b} in HF's weight layout ({@code W [out, in]}), optionally with a
 * LoRA branch {@code + (x A^T B^T) * alpha / r} (PEFT: {@code lora_A [r, in]}, {@code lora_B [out, r]}). A
 * checkpoint module that fuses several projections (GPT-2's {@code c_attn}: q, k and v) has one adapter for all
 * of them: they share its {@code A}, and each owns a block of rows of its {@code B} ({@link #shareLora}).
 */
final class Projection extends SkeletonBlock {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final Map<String, Parameter> registry;
    private Parameter loraA;
    private Parameter loraB;
    /** This projection's first row of {@code loraB}, whose rows may span a fused module's projections. */
    private int loraRow;
    /** Whether this projection declared the adapter's parameters (and removes them). */
    private boolean ownsLora;
    private NDArray loraScale;
    private float loraScaleValue;
    private final Kernels kernels;

    Projection(Map<String, Parameter> registry, String name, boolean hasBias, Kernels kernels) {
        super(registry);
        this.kernels = kernels;
        this.registry = registry;
        this.name = name;
        weight = param(name + ".weight", Parameter.Type.WEIGHT);
        bias = hasBias ? param(name + ".bias", Parameter.Type.BIAS) : null;
    }

    /** @return the skeleton name, e.g. {@code model.layers.0.self_attn.q_proj} */
    String name() {
        return name;
    }

    /** @return the base weight {@code [out, in]} */
    NDArray weightArray() {
        return weight.getArray();
    }

    /**
     * Applies the layer.
     *
     * @param x {@code [..., in]}
     * @param ctx the forward's context (chooses the kernel)
     * @return {@code [..., out]}
     */
    NDArray apply(NDArray x, ForwardContext ctx) {
        return applyAll(x, ctx, this)[0];
    }

    /**
     * Applies projections that read the same input (q/k/v; gate/up). On a training forward with a
     * {@link BlasTape}, their base weights are one OpenBLAS GEMM and their LoRA branches run on the tape too.
     * Otherwise, when {@link Kernels#oneDnnTrainable} holds, their weights are concatenated and multiplied in one
     * differentiable oneDNN inner product (one larger GEMM; the concatenation's backward hands each weight its
     * gradient); otherwise each runs alone.
     *
     * @param x {@code [..., in]}
     * @param ctx the forward's context
     * @param projections the projections, all of the same input size
     * @return each projection's output, in order
     */
    static NDArray[] applyAll(NDArray x, ForwardContext ctx, Projection... projections) {
        Kernels kernels = projections[0].kernels;
        boolean allBiased = true;
        boolean noBias = true;
        for (Projection p : projections) {
            allBiased &= p.bias != null;
            noBias &= p.bias == null;
        }
        NDArray[] ys = new NDArray[projections.length];
        if (ctx.tape != null) {
            return onTape(x, ctx, projections);
        }
        if (!kernels.oneDnnTrainable(ctx) || !(allBiased || noBias)) {
            boolean oneDnn = kernels.oneDnnLinear(ctx);
            for (int i = 0; i < ys.length; i++) {
                Projection p = projections[i];
                ys[i] = linear(kernels, x, p.weight.getArray(), p.bias == null ? null : p.bias.getArray(), oneDnn);
            }
            return withLora(x, ctx, ys, projections, oneDnn);
        }
        NDList weights = new NDList();
        NDList biases = new NDList();
        long[] ends = new long[projections.length - 1];
        long row = 0;
        for (int i = 0; i < projections.length; i++) {
            Projection p = projections[i];
            weights.add(p.weight.getArray());
            if (p.bias != null) {
                biases.add(p.bias.getArray());
            }
            row += p.weight.getArray().getShape().get(0);
            if (i < ends.length) {
                ends[i] = row;
            }
        }
        NDArray w = weights.size() == 1 ? weights.head() : NDArrays.concat(weights, 0);
        NDArray b = biases.isEmpty() ? null : biases.size() == 1 ? biases.head() : NDArrays.concat(biases, 0);
        NDArray y = kernels.ops().linearTrainable(x, w, b);
        NDList parts = ends.length == 0 ? new NDList(y) : y.split(ends, y.getShape().dimension() - 1);
        for (int i = 0; i < ys.length; i++) {
            ys[i] = parts.get(i);
        }
        return withLora(x, ctx, ys, projections, false);
    }

    /**
     * On a training forward's tape, the q/k/v projections as one OpenBLAS linear layer (LoRA branches included, their
     * dropout masks drawn in the same order as {@link #applyAll}), unsplit and without their biases: the leaf and
     * the biases go to {@link BlasTape#attention}, which reads them itself.
     *
     * @param x {@code [B,T,C]}
     * @param ctx the forward's context, with a tape
     * @param heads H
     * @param kvHeads KVH
     * @param headDim D
     * @param q the query projection ({@code [H D, C]})
     * @param k the key projection ({@code [KVH D, C]})
     * @param v the value projection ({@code [KVH D, C]})
     * @return the leaf {@code [B,T,(H+2 KVH) D]} and the biases (null when the projections have none)
     */
    static TapedAttention.FusedQkv qkvOnTape(NDArray x, ForwardContext ctx, int heads, int kvHeads, int headDim,
            Projection q, Projection k, Projection v) {
        if ((q.bias == null) != (k.bias == null) || (q.bias == null) != (v.bias == null)) {
            throw new IllegalStateException("q, k and v projections must all have biases or none: " + q.name);
        }
        NDArray[] biases = q.bias == null ? null
                : new NDArray[] {q.bias.getArray(), k.bias.getArray(), v.bias.getArray()};
        return new TapedAttention.FusedQkv(tapeLeaf(x, ctx, q, k, v), heads, kvHeads, headDim, biases);
    }

    // the projections (LoRA branches included) as OpenBLAS GEMMs on the forward's tape; biases stay in autograd
    private static NDArray[] onTape(NDArray x, ForwardContext ctx, Projection... projections) {
        NDArray y = tapeLeaf(x, ctx, projections);
        long[] ends = new long[projections.length - 1];
        long row = 0;
        for (int i = 0; i < ends.length; i++) {
            row += projections[i].weight.getArray().getShape().get(0);
            ends[i] = row;
        }
        NDList parts = ends.length == 0 ? new NDList(y) : y.split(ends, y.getShape().dimension() - 1);
        NDArray[] ys = new NDArray[projections.length];
        for (int i = 0; i < ys.length; i++) {
            Projection p = projections[i];
            ys[i] = p.bias == null ? parts.get(i) : parts.get(i).add(p.bias.getArray());
        }
        return ys;
    }

    /**
     * On a training forward's tape, projections without biases that read one input as one OpenBLAS linear layer
     * (LoRA branches included), unsplit.
     *
     * @param x {@code [..., in]}
     * @param ctx the forward's context, with a tape
     * @param projections the projections, without biases
     * @return the leaf {@code [..., Σ out_i]}, the projections' outputs side by side
     */
    static NDArray fusedOnTape(NDArray x, ForwardContext ctx, Projection... projections) {
        if (!unbiased(projections)) {
            throw new IllegalStateException("projections with biases cannot be fused unsplit: " + projections[0].name);
        }
        return tapeLeaf(x, ctx, projections);
    }

    /** @return whether none of the projections has a bias */
    static boolean unbiased(Projection... projections) {
        for (Projection p : projections) {
            if (p.bias != null) {
                return false;
            }
        }
        return true;
    }

    /** @return the number of outputs (the weight's rows) */
    int outputs() {
        return (int) weight.getArray().getShape().get(0);
    }

    // the projections' outputs side by side, without biases: one taped linear layer's leaf [..., Σ out_i]
    private static NDArray tapeLeaf(NDArray x, ForwardContext ctx, Projection... projections) {
        NDArray[] weights = new NDArray[projections.length];
        BlasTape.Adapter[] adapters = new BlasTape.Adapter[projections.length];
        for (int i = 0; i < projections.length; i++) {
            Projection p = projections[i];
            weights[i] = p.weight.getArray();
            // a fused module's adapter is one branch over its projections' consecutive columns, at its first
            if (p.loraA != null && p.loraRow == 0) {
                checkMembersFollow(projections, i);
                adapters[i] = new BlasTape.Adapter(p.loraA.getArray(), p.loraB.getArray(), p.loraScaleValue);
            } else if (p.loraA != null) {
                checkOwnerPrecedes(projections, i);
            }
        }
        return ctx.tape.linear(x, ctx.inference ? null : ctx.loraDropout, adapters, weights);
    }

    /**
     * Adds each projection's LoRA branch, where it has one, to its base output: {@code ys[i] += lora_B(lora_A(
     * dropout(x))) * scaling} (PEFT; dropout only in training). A fused module's branch runs once, with one dropout
     * mask, and its output's row blocks go to its projections, which must all be among these.
     */
    private static NDArray[] withLora(NDArray x, ForwardContext ctx, NDArray[] ys, Projection[] projections,
            boolean oneDnn) {
        for (int i = 0; i < projections.length; i++) {
            Projection p = projections[i];
            if (p.loraA == null) {
                continue;
            }
            if (p.loraRow != 0) {
                checkOwnerPrecedes(projections, i);   // its branch ran with the module's first projection
                continue;
            }
            int members = checkMembersFollow(projections, i);
            NDArray in = ctx.loraDropout == null || ctx.inference ? x : ctx.loraDropout.apply(x, p.kernels.type());
            // the scale multiplies the rank-r activations [..., r] rather than the output [..., out]: the
            // same product, one elementwise pass over r instead of out values (forward and backward)
            NDArray low = linear(p.kernels, in, p.loraA.getArray(), null, oneDnn).mul(p.loraScale);
            NDArray branch = linear(p.kernels, low, p.loraB.getArray(), null, oneDnn);
            if (members == 1) {
                ys[i] = ys[i].add(branch);
                continue;
            }
            long[] ends = new long[members - 1];
            for (int m = 1; m < members; m++) {
                ends[m - 1] = projections[i + m].loraRow;
            }
            NDList parts = branch.split(ends, branch.getShape().dimension() - 1);
            for (int m = 0; m < members; m++) {
                ys[i + m] = ys[i + m].add(parts.get(m));
            }
        }
        return ys;
    }

    private static void checkOwnerPrecedes(Projection[] projections, int i) {
        for (int j = 0; j < i; j++) {
            if (projections[j].loraB == projections[i].loraB && projections[j].loraRow == 0) {
                return;
            }
        }
        throw new IllegalStateException(projections[i].name + " shares the LoRA adapter "
                + projections[i].loraB.getName() + " of a fused module; apply the module's projections together");
    }

    // the projections after the i-th that share its adapter (a fused module's) follow it, in the order of its B's
    // row blocks; returns how many projections the adapter spans
    private static int checkMembersFollow(Projection[] projections, int i) {
        Projection first = projections[i];
        long rows = first.loraB.getArray().getShape().get(0);
        int members = 1;
        long covered = first.outputs();
        while (covered < rows) {
            int next = i + members;
            if (next >= projections.length || projections[next].loraB != first.loraB
                    || projections[next].loraRow != covered) {
                throw new IllegalStateException("the LoRA adapter " + first.loraB.getName() + " spans " + rows
                        + " outputs, but the projections applied with " + first.name + " cover " + covered);
            }
            covered += projections[next].outputs();
            members++;
        }
        return members;
    }

    private static NDArray linear(Kernels kernels, NDArray x, NDArray w, NDArray b, boolean oneDnn) {
        return oneDnn ? kernels.ops().linear(x, w, b) : Linear.linear(x, w, b).singletonOrThrow();
    }

    /**
     * Adds a LoRA branch; its parameters are named {@code <name>.lora_A.weight} and {@code <name>.lora_B.weight}.
     *
     * @param scale a 0-dim array holding {@code alpha / r} (or {@code alpha / sqrt(r)} for rsLoRA)
     */
    void addLora(NDArray scale) {
        shareLora(name, scale, new Projection[] {this}, new int[] {0});
    }

    /**
     * Adds one LoRA adapter to a checkpoint module made of these projections (all of one input): its parameters are
     * named {@code <module>.lora_A.weight} ({@code [r, in]}, shared) and {@code <module>.lora_B.weight}
     * ({@code [Σ out, r]}, projection i owning rows {@code [rows[i], rows[i] + out_i)}), declared by the first.
     *
     * @param module the checkpoint module's name
     * @param scale a 0-dim array holding {@code alpha / r} (or {@code alpha / sqrt(r)} for rsLoRA)
     * @param members the projections, in the order of {@code B}'s row blocks
     * @param rows each one's first row of {@code B}, starting at 0
     */
    static void shareLora(String module, NDArray scale, Projection[] members, int[] rows) {
        for (Projection p : members) {
            if (p.loraA != null) {
                throw new IllegalStateException(p.name + " already has a LoRA adapter");
            }
        }
        Projection first = members[0];
        Parameter a = first.param(module + ".lora_A.weight", Parameter.Type.WEIGHT);
        Parameter b = first.param(module + ".lora_B.weight", Parameter.Type.WEIGHT);
        for (int i = 0; i < members.length; i++) {
            Projection p = members[i];
            p.loraA = a;
            p.loraB = b;
            p.loraRow = rows[i];
            p.ownsLora = i == 0;
            p.loraScale = scale;
            p.loraScaleValue = scale.getFloat();
        }
    }

    /** @return the adapter's {@code lora_A [r, in]} (a fused module's, shared) */
    NDArray loraA() {
        return loraA.getArray();
    }

    /**
     * @param owner where a row view of a fused module's {@code B} lives
     * @return this projection's rows of the adapter's {@code lora_B}: {@code [out, r]}, a view of a fused module's
     */
    NDArray loraBRows(NDManager owner) {
        NDArray b = loraB.getArray();
        if (b.getShape().get(0) == outputs()) {
            return b;
        }
        NDArray rows = b.get(new NDIndex("{}:{}", loraRow, loraRow + outputs()));
        rows.attach(owner);
        return rows;
    }

    /** @return whether a LoRA branch is attached */
    boolean hasLora() {
        return loraA != null;
    }

    /**
     * Folds the LoRA branch into the weight ({@code W += B A * scale}) and removes it.
     *
     * @return the merged weight (a new array; the caller installs it)
     */
    NDArray mergedWeight() {
        try (NDManager scratch = weight.getArray().getManager().newSubManager()) {
            NDArray delta = loraBRows(scratch).matMul(loraA.getArray()).mul(loraScale);
            NDArray merged = weight.getArray().add(delta);
            merged.attach(weight.getArray().getManager());
            return merged;
        }
    }

    /** Removes the LoRA branch (after its weights were merged or discarded). */
    void removeLora() {
        if (ownsLora) {
            parameters.remove(loraA.getName());
            parameters.remove(loraB.getName());
            registry.remove(loraA.getName());
            registry.remove(loraB.getName());
            loraA.close();
            loraB.close();
        }
        loraA = null;
        loraB = null;
        loraScale = null;
    }
}
