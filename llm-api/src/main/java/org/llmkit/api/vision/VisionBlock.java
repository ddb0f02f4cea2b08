package org.llmkit.api.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Map;

/**
 * Base of the vision blocks: parameters carry their checkpoint name relative to the block family's root
 * ({@code encoder.layers.0.self_attn.q_proj.weight}) and are registered in the family-wide map that loading and
 * training use. Ops always start from an activation, so per-call results land in the caller's manager.
 */
abstract class VisionBlock extends AbstractBlock {
    private final Map<String, Parameter> registry;
    private final Map<String, Shape> shapes;

    VisionBlock(Map<String, Parameter> registry, Map<String, Shape> shapes) {
        this.registry = registry;
        this.shapes = shapes;
    }

    /**
     * Declares a parameter (without an array: loading or initialisation sets it).
     *
     * @param name checkpoint name relative to the root
     * @param shape the shape the config implies
     * @return the parameter
     */
    protected Parameter param(String name, Shape shape) {
        Parameter p = addParameter(Parameter.builder().setName(name)
                .setType(name.endsWith(".bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT).build());
        if (registry.put(name, p) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        shapes.put(name, shape);
        return p;
    }

    /** {@code x W^T + b} with HF's {@code W [out, in]}. */
    static NDArray linear(NDArray x, Parameter weight, Parameter bias) {
        return Linear.linear(x, weight.getArray(), bias == null ? null : bias.getArray()).singletonOrThrow();
    }

    /** LayerNorm over the last axis. */
    static NDArray layerNorm(NDArray x, Parameter weight, Parameter bias, float eps) {
        Shape last = new Shape(x.getShape().get(x.getShape().dimension() - 1));
        return LayerNorm.layerNorm(x, last, weight.getArray(), bias.getArray(), eps).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " runs inside its tower; call ClipVisionTower.hiddenStates or forward on the tower");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
