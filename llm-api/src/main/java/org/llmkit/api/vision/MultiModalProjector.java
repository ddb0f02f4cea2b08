package org.llmkit.api.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.model.Activations;
import org.llmkit.api.model.Constants;

/**
 * LLaVA's multi-modal projector ({@code LlavaMultiModalProjector}): image features from the vision tower into
 * the language model's embedding space, {@code linear_2(act(linear_1(x)))}, with
 * {@code linear_1 [C_text, C_features]} and {@code linear_2 [C_text, C_text]} (biases when the config says so).
 * Parameters are named like the checkpoint relative to {@code multi_modal_projector}.
 */
public final class MultiModalProjector extends AbstractBlock {
    private final LlavaConfig config;
    private final WeightTable weights = new WeightTable("multi-modal projector");
    private final Constants f32;
    private final Parameter w1;
    private final Parameter b1;
    private final Parameter w2;
    private final Parameter b2;

    /**
     * Builds an empty projector (parameters declared, no arrays yet).
     *
     * @param config the model's shape
     * @param manager owner of the constants
     */
    public MultiModalProjector(LlavaConfig config, NDManager manager) {
        this.config = config;
        this.f32 = new Constants(manager, DataType.FLOAT32);
        long text = config.text().hiddenSize();
        w1 = declare("linear_1.weight", new Shape(text, config.featureWidth()));
        b1 = config.projectorBias() ? declare("linear_1.bias", new Shape(text)) : null;
        w2 = declare("linear_2.weight", new Shape(text, text));
        b2 = config.projectorBias() ? declare("linear_2.bias", new Shape(text)) : null;
    }

    private Parameter declare(String name, Shape shape) {
        Parameter p = addParameter(Parameter.builder().setName(name)
                .setType(name.endsWith(".bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT).build());
        weights.params.put(name, p);
        weights.shapes.put(name, shape);
        return p;
    }

    /** @return checkpoint name (relative to the projector) to the shape the config implies */
    public Map<String, Shape> expectedShapes() {
        return weights.expectedShapes();
    }

    /** @return checkpoint name (relative to the projector) to parameter */
    public Map<String, Parameter> parameters() {
        return weights.parameters();
    }

    /**
     * Installs a weight after checking its shape against the config.
     *
     * @param name checkpoint name relative to the projector
     * @param array the values (ownership moves to the parameter)
     * @throws IllegalArgumentException naming the tensor, the expected and the found shape
     */
    public void setWeight(String name, NDArray array) {
        weights.set(name, array, "text hidden_size=" + config.text().hiddenSize() + ", vision hidden_size="
                + config.vision().hiddenSize() + " x " + config.featureLayers().size() + " feature layer(s)");
    }

    /** @return names of parameters without an array yet, empty when complete */
    public List<String> missingWeights() {
        return weights.missing();
    }

    /**
     * Projects image features.
     *
     * @param features {@code [..., C_features]} float32
     * @return {@code [..., C_text]}
     */
    public NDArray apply(NDArray features) {
        NDArray h = VisionBlock.linear(features, w1, b1);
        return VisionBlock.linear(Activations.apply(config.projectorHiddenAct(), h, f32), w2, b2);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        return new NDList(apply(inputs.singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(config.text().hiddenSize())};
    }
}
