package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import java.util.Map;

/**
 * A linear layer {@code y = x W^T + b} in HF's weight layout ({@code W [out, in]}), optionally with a
 * LoRA branch {@code + (x A^T B^T) * alpha / r} (PEFT: {@code lora_A [r, in]}, {@code lora_B [out, r]}).
 */
final class Projection extends SkeletonBlock {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final Map<String, Parameter> registry;
    private Parameter loraA;
    private Parameter loraB;
    private NDArray loraScale;
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

    /**
     * Applies the layer.
     *
     * @param x {@code [..., in]}
     * @param ctx the forward's context (chooses the kernel)
     * @return {@code [..., out]}
     */
    NDArray apply(NDArray x, ForwardContext ctx) {
        boolean oneDnn = kernels.oneDnnLinear(ctx);
        NDArray y = linear(x, weight.getArray(), bias == null ? null : bias.getArray(), oneDnn);
        if (loraA != null) {
            // PEFT: lora_B(lora_A(dropout(x))) * scaling, dropout only in training
            NDArray in = ctx.loraDropout == null || ctx.inference ? x : ctx.loraDropout.apply(x, kernels.type());
            // the scale multiplies the rank-r activations [..., r] rather than the output [..., out]: the
            // same product, one elementwise pass over r instead of out values (forward and backward)
            NDArray low = linear(in, loraA.getArray(), null, oneDnn).mul(loraScale);
            y = y.add(linear(low, loraB.getArray(), null, oneDnn));
        }
        return y;
    }

    private NDArray linear(NDArray x, NDArray w, NDArray b, boolean oneDnn) {
        return oneDnn ? kernels.ops().linear(x, w, b) : Linear.linear(x, w, b).singletonOrThrow();
    }

    /**
     * Adds a LoRA branch; its parameters are named {@code <name>.lora_A.weight} and {@code <name>.lora_B.weight}.
     *
     * @param scale a 0-dim array holding {@code alpha / r} (or {@code alpha / sqrt(r)} for rsLoRA)
     */
    void addLora(NDArray scale) {
        if (loraA != null) {
            throw new IllegalStateException(name + " already has a LoRA adapter");
        }
        loraA = param(name + ".lora_A.weight", Parameter.Type.WEIGHT);
        loraB = param(name + ".lora_B.weight", Parameter.Type.WEIGHT);
        loraScale = scale;
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
        NDArray delta = loraB.getArray().matMul(loraA.getArray()).mul(loraScale);
        return weight.getArray().add(delta);
    }

    /** Removes the LoRA branch (after its weights were merged or discarded). */
    void removeLora() {
        parameters.remove(loraA.getName());
        parameters.remove(loraB.getName());
        registry.remove(loraA.getName());
        registry.remove(loraB.getName());
        loraA.close();
        loraB.close();
        loraA = null;
        loraB = null;
        loraScale = null;
    }
}
