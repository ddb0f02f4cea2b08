package org.llmkit.api.vision;

import java.util.Set;

/**
 * The shape of a CLIP vision tower ({@code vision_config} of a LLaVA {@code config.json}, transformers'
 * {@code CLIPVisionConfig}), validated and immutable.
 *
 * @param hiddenSize width of the patch embeddings and the encoder (C)
 * @param intermediateSize width of each encoder layer's MLP
 * @param numLayers number of encoder layers
 * @param numHeads attention heads (H); must divide {@code hiddenSize}
 * @param numChannels input channels, 3 for RGB
 * @param imageSize side of the square input image in pixels
 * @param patchSize side of a square patch in pixels; must divide {@code imageSize}
 * @param layerNormEps epsilon of the LayerNorms
 * @param hiddenAct MLP activation: {@code quick_gelu} (CLIP's default), {@code gelu}, {@code gelu_new},
 *     {@code gelu_pytorch_tanh} or {@code relu}
 */
public record VisionConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numChannels,
        int imageSize, int patchSize, double layerNormEps, String hiddenAct) {

    /** Activations the vision encoder implements. */
    public static final Set<String> ACTIVATIONS = Set.of("quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh",
            "relu");

    /**
     * Validates sizes; messages name the field and the numbers.
     *
     * @param hiddenSize width of the patch embeddings and the encoder (C)
     * @param intermediateSize width of each encoder layer's MLP
     * @param numLayers number of encoder layers
     * @param numHeads attention heads (H); must divide {@code hiddenSize}
     * @param numChannels input channels, 3 for RGB
     * @param imageSize side of the square input image in pixels
     * @param patchSize side of a square patch in pixels; must divide {@code imageSize}
     * @param layerNormEps epsilon of the LayerNorms
     * @param hiddenAct MLP activation
     * @throws IllegalArgumentException for a non-positive size, a head count that does not divide the width, a
     *     patch size that does not divide the image size
     * @throws UnsupportedOperationException for an activation the encoder does not implement
     */
    public VisionConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_channels", numChannels);
        positive("image_size", imageSize);
        positive("patch_size", patchSize);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("vision hidden_size (" + hiddenSize
                    + ") is not a multiple of num_attention_heads (" + numHeads + ")");
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("vision image_size (" + imageSize + ") is not a multiple of patch_size ("
                    + patchSize + ")");
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("vision layer_norm_eps (" + layerNormEps + ") must be > 0");
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new UnsupportedOperationException("vision hidden_act '" + hiddenAct + "' is not supported; supported: "
                    + String.join(", ", new java.util.TreeSet<>(ACTIVATIONS)));
        }
    }

    /** @return patches per image side */
    public int patchesPerSide() {
        return imageSize / patchSize;
    }

    /** @return patches per image (the class token not counted) */
    public int numPatches() {
        return patchesPerSide() * patchesPerSide();
    }

    /** @return width of one attention head (D) */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("vision " + name + " must be > 0 but is " + value);
        }
    }
}
