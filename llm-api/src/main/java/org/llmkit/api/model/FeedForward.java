package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.ModelConfig;

/** The MLP: gated {@code down(act(gate(x)) * up(x))} (SwiGLU) or plain {@code down(act(up(x)))}. */
final class FeedForward extends SkeletonBlock {
    private final Projection gate;
    private final Projection up;
    private final Projection down;
    private final String activation;
    private final Constants constants;
    private final Kernels kernels;

    FeedForward(Map<String, Parameter> registry, String prefix, ModelConfig c, DecoderSpec.Mlp kind,
            Constants constants, Kernels kernels) {
        super(registry);
        gate = kind == DecoderSpec.Mlp.GATED
                ? addChildBlock("gate_proj", new Projection(registry, prefix + "gate_proj", c.mlpBias(), kernels))
                : null;
        up = addChildBlock("up_proj", new Projection(registry, prefix + "up_proj", c.mlpBias(), kernels));
        down = addChildBlock("down_proj", new Projection(registry, prefix + "down_proj", c.mlpBias(), kernels));
        activation = c.hiddenAct();
        this.constants = constants;
        this.kernels = kernels;
    }

    List<Projection> projections() {
        List<Projection> all = new ArrayList<>();
        if (gate != null) {
            all.add(gate);
        }
        all.add(up);
        all.add(down);
        return all;
    }

    /**
     * @param x {@code [B,T,C]}
     * @param ctx the forward's context
     * @return {@code [B,T,C]}
     */
    NDArray apply(NDArray x, ForwardContext ctx) {
        NDArray h;
        if (gate == null) {
            h = activate(up.apply(x, ctx));
        } else {
            boolean silu = "silu".equals(activation) || "swish".equals(activation);
            if (silu && kernels.fused() && ctx.tape != null && Projection.unbiased(gate, up)) {
                // one taped gate/up layer and a hand backward for the activation (BlasTape#swiglu)
                h = ctx.tape.swiglu(Projection.fusedOnTape(x, ctx, gate, up), gate.outputs());
            } else {
                NDArray[] gu = Projection.applyAll(x, ctx, gate, up);
                h = silu && kernels.fused() ? kernels.ops().swiglu(gu[0], gu[1])
                        : activate(gu[0]).mul(gu[1]);
            }
        }
        return down.apply(h, ctx);
    }

    // the tanh-approximated GELUs as aten's fused kernel when the model has its ops (the slow twin, the formula in
    // tensor ops, is Activations'): GPT-2's MLP spent ~9% of an OpenBLAS training step in the formula's passes
    private NDArray activate(NDArray x) {
        if (kernels.fused() && Activations.isGeluTanh(activation)) {
            return kernels.ops().geluTanh(x);
        }
        return Activations.apply(activation, x, constants);
    }
}
