package org.llmkit.api.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Map;

/**
 * Base of the skeleton's blocks: parameters carry their full checkpoint-style name
 * ({@code model.layers.0.self_attn.q_proj.weight}) and are also registered in the model-wide map
 * that loading and saving use. Blocks keep their shapes, so {@link #getOutputShapes} is the identity
 * on the hidden size unless overridden.
 */
abstract class SkeletonBlock extends AbstractBlock {
    private final Map<String, Parameter> registry;

    SkeletonBlock(Map<String, Parameter> registry) {
        this.registry = registry;
    }

    /**
     * Declares a parameter (without an array: loading or initialisation sets it).
     *
     * @param name full skeleton name
     * @param type weight or bias
     * @return the parameter
     */
    protected Parameter param(String name, Parameter.Type type) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(type).build());
        if (registry.put(name, p) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        return p;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " runs inside DecoderModel; call DecoderModel.forward with a ForwardContext");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
