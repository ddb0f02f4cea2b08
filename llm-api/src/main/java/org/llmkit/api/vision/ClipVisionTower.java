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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.model.Constants;

/**
 * CLIP's vision transformer as LLaVA uses it (transformers' {@code CLIPVisionTransformer} up to the encoder's
 * hidden states; the post-LayerNorm and pooler are not used):
 * <pre>
 * patches  = patch_embedding(pixels)                  a P x P convolution with stride P, no bias: [B, N, C]
 * x        = [class_embedding; patches] + position_embedding        [B, N+1, C]
 * h[0]     = pre_layrnorm(x)                           (sic: the checkpoint's spelling)
 * h[i]     = encoder.layers[i-1](h[i-1])               i = 1..L
 * </pre>
 * Shapes: B images, C channels in, P patch side, N = (image_size / P)^2 patches, C width. Parameters are named
 * like the checkpoint, relative to the tower ({@code embeddings.patch_embedding.weight},
 * {@code encoder.layers.0.mlp.fc1.weight}, ...). Weights belong to the manager given at construction; per-call
 * arrays to the caller's. Immutable once loaded; safe to share between threads.
 */
public final class ClipVisionTower extends AbstractBlock {
    private final VisionConfig config;
    private final WeightTable weights = new WeightTable("vision tower");
    private final Parameter classEmbedding;
    private final Parameter patchEmbedding;
    private final Parameter positionEmbedding;
    private final Parameter preNormWeight;
    private final Parameter preNormBias;
    private final List<ClipEncoderLayer> layers = new ArrayList<>();

    /**
     * Builds an empty tower (parameters declared, no arrays yet).
     *
     * @param config the tower's shape
     * @param manager owner of the constants (weights are attached to it when set)
     */
    public ClipVisionTower(VisionConfig config, NDManager manager) {
        this.config = config;
        long c = config.hiddenSize();
        classEmbedding = declare("embeddings.class_embedding", new Shape(c));
        patchEmbedding = declare("embeddings.patch_embedding.weight",
                new Shape(c, config.numChannels(), config.patchSize(), config.patchSize()));
        positionEmbedding = declare("embeddings.position_embedding.weight", new Shape(config.numPatches() + 1, c));
        preNormWeight = declare("pre_layrnorm.weight", new Shape(c));
        preNormBias = declare("pre_layrnorm.bias", new Shape(c));
        Constants f32 = new Constants(manager, DataType.FLOAT32);
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(addChildBlock("layer" + i,
                    new ClipEncoderLayer(weights.params, weights.shapes, i, config, f32)));
        }
    }

    private Parameter declare(String name, Shape shape) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build());
        weights.params.put(name, p);
        weights.shapes.put(name, shape);
        return p;
    }

    /** @return the tower's shape */
    public VisionConfig config() {
        return config;
    }

    /** @return checkpoint name (relative to the tower) to the shape the config implies, in checkpoint order */
    public Map<String, Shape> expectedShapes() {
        return weights.expectedShapes();
    }

    /** @return checkpoint name (relative to the tower) to parameter */
    public Map<String, Parameter> parameters() {
        return weights.parameters();
    }

    /**
     * Installs a weight after checking its shape against the config.
     *
     * @param name checkpoint name relative to the tower
     * @param array the values (ownership moves to the parameter)
     * @throws IllegalArgumentException naming the tensor, the expected and the found shape
     */
    public void setWeight(String name, NDArray array) {
        weights.set(name, array, "hidden_size=" + config.hiddenSize() + ", intermediate_size="
                + config.intermediateSize() + ", image_size=" + config.imageSize() + ", patch_size="
                + config.patchSize() + ", num_channels=" + config.numChannels());
    }

    /** @return names of parameters without an array yet, empty when complete */
    public List<String> missingWeights() {
        return weights.missing();
    }

    /**
     * Runs the embeddings and the first {@code deepest} encoder layers.
     *
     * @param pixelValues {@code [B, channels, image_size, image_size]} float32, normalised as the image processor does
     * @param deepest how many encoder layers to run, in {@code [0, num_hidden_layers]}
     * @return {@code deepest + 1} hidden states {@code [B, N+1, C]}: after the pre-LayerNorm, then after each layer
     * @throws IllegalArgumentException when the pixel values have another shape than the config implies
     */
    public List<NDArray> hiddenStates(NDArray pixelValues, int deepest) {
        if (deepest < 0 || deepest > config.numLayers()) {
            throw new IllegalArgumentException("deepest must be in [0, " + config.numLayers() + "] but is " + deepest);
        }
        Shape s = pixelValues.getShape();
        Shape expected = new Shape(s.dimension() > 0 ? s.get(0) : 1, config.numChannels(), config.imageSize(),
                config.imageSize());
        if (!s.equals(expected)) {
            throw new IllegalArgumentException("pixel values have shape " + s + " but the vision tower takes "
                    + expected + " (num_channels=" + config.numChannels() + ", image_size=" + config.imageSize()
                    + "); preprocess images with the model's image processor");
        }
        List<NDArray> states = new ArrayList<>(deepest + 1);
        NDArray x = VisionBlock.layerNorm(embeddings(pixelValues), preNormWeight, preNormBias,
                (float) config.layerNormEps());
        states.add(x);
        for (int i = 0; i < deepest; i++) {
            x = layers.get(i).apply(x);
            states.add(x);
        }
        return states;
    }

    // [B, ch, S, S] -> [B, N+1, C]: patches flattened in (channel, row, column) order, the conv weight's layout
    private NDArray embeddings(NDArray pixels) {
        long b = pixels.getShape().get(0);
        int ch = config.numChannels();
        int p = config.patchSize();
        int side = config.patchesPerSide();
        long c = config.hiddenSize();
        NDManager m = pixels.getManager();
        NDArray patches = pixels.reshape(b, ch, side, p, side, p).transpose(0, 2, 4, 1, 3, 5)
                .reshape(b, (long) side * side, (long) ch * p * p);
        NDArray kernel = patchEmbedding.getArray().reshape(c, (long) ch * p * p);
        kernel.attach(m);                                   // a per-call view of the weight, closed with the call
        NDArray x = patches.matMul(kernel.transpose());                                  // [B, N, C]
        NDArray cls = x.get(":, :1, :").zerosLike().add(classEmbedding.getArray());    // [B, 1, C]
        return cls.concat(x, 1).add(positionEmbedding.getArray());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        List<NDArray> states = hiddenStates(inputs.singletonOrThrow(), config.numLayers());
        return new NDList(states.get(states.size() - 1));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numPatches() + 1, config.hiddenSize())};
    }
}
