package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import java.util.Map;

/**
 * RMSNorm (Llama: {@code w * (x / sqrt(mean(x^2) + eps))}, computed in float32, the weight applied
 * after casting back) or LayerNorm with bias (GPT-2).
 */
final class Norm extends SkeletonBlock {
    private final DecoderSpec.Norm kind;
    private final Parameter weight;
    private final Parameter bias;
    private final NDArray eps;
    private final float epsValue;
    private final double epsExact;
    private final Kernels kernels;

    Norm(Map<String, Parameter> registry, String name, DecoderSpec.Norm kind, double eps, Constants f32,
            Kernels kernels) {
        super(registry);
        this.kind = kind;
        weight = param(name + ".weight", Parameter.Type.GAMMA);
        bias = kind == DecoderSpec.Norm.LAYER ? param(name + ".bias", Parameter.Type.BETA) : null;
        this.eps = f32.of((float) eps);
        this.epsValue = (float) eps;
        this.epsExact = eps;
        this.kernels = kernels;
    }

    /**
     * Normalises the last axis; an RMSNorm on a training forward's tape runs on the host ({@link BlasTape#rmsNorm}).
     *
     * @param x {@code [..., C]}
     * @param ctx the forward's context
     * @return same shape and type
     */
    NDArray apply(NDArray x, ForwardContext ctx) {
        if (ctx.tape != null && kind == DecoderSpec.Norm.RMS) {
            return ctx.tape.rmsNorm(x, weight.getArray(), epsExact);
        }
        return apply(x);
    }

    /**
     * Normalises the last axis.
     *
     * @param x {@code [..., C]}
     * @return same shape and type
     */
    NDArray apply(NDArray x) {
        if (kind == DecoderSpec.Norm.LAYER) {
            Shape last = new Shape(x.getShape().get(x.getShape().dimension() - 1));
            return LayerNorm.layerNorm(x, last, weight.getArray(), bias.getArray(), epsValue).singletonOrThrow();
        }
        if (kernels.fused()) {
            return kernels.ops().rmsNorm(x, weight.getArray(), epsExact);
        }
        NDArray h = kernels.type().float32(x);
        NDArray variance = h.square().mean(new int[] {-1}, true);
        h = kernels.type().cast(h.div(variance.add(eps).sqrt()));
        return h.mul(weight.getArray());
    }
}
