package org.llmkit.api.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.ModelFormatException;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.ConfigJson;

/**
 * The shape of a LLaVA-1.5-style vision-language model ({@code model_type: llava}, transformers'
 * {@code LlavaConfig}): a CLIP vision tower, the multi-modal projector and a decoder language model whose
 * prompt carries {@code imageTokens()} image tokens per image. Read from {@code config.json} once, validated,
 * immutable.
 *
 * @param vision the vision tower ({@code vision_config})
 * @param text the language model ({@code text_config})
 * @param imageTokenIndex the token id that marks image positions ({@code image_token_index})
 * @param projectorHiddenAct the projector's activation ({@code projector_hidden_act})
 * @param projectorBias whether the projector's linear layers have biases ({@code multimodal_projector_bias})
 * @param featureLayers which hidden states of the vision encoder feed the projector ({@code vision_feature_layer},
 *     an index or a list of indices into {@code [embeddings, layer 1, ..., layer N]}, negative from the end;
 *     several are concatenated along the channels)
 * @param featureSelection {@link FeatureSelection#DEFAULT} drops the class token,
 *     {@link FeatureSelection#FULL} keeps it ({@code vision_feature_select_strategy})
 */
public record LlavaConfig(VisionConfig vision, ModelConfig text, int imageTokenIndex, String projectorHiddenAct,
        boolean projectorBias, List<Integer> featureLayers, FeatureSelection featureSelection) {

    /** Activations the projector implements. */
    public static final Set<String> PROJECTOR_ACTIVATIONS = Set.of("gelu", "gelu_new", "gelu_pytorch_tanh",
            "quick_gelu", "relu", "silu");

    /** Which vision-encoder positions become image tokens. */
    public enum FeatureSelection {
        /** Patch positions only: the class token is dropped ({@code "default"}). */
        DEFAULT,
        /** The class token and every patch ({@code "full"}). */
        FULL
    }

    /**
     * Validates the combination; messages name the field and the numbers.
     *
     * @param vision the vision tower
     * @param text the language model
     * @param imageTokenIndex the image token id, inside the text vocabulary
     * @param projectorHiddenAct the projector's activation
     * @param projectorBias whether the projector has biases
     * @param featureLayers hidden-state indices, each in {@code [-(N+1), N]} for N encoder layers
     * @param featureSelection which positions to keep
     * @throws IllegalArgumentException for an image token outside the vocabulary or a feature layer outside the
     *     encoder
     * @throws UnsupportedOperationException for a projector activation that is not implemented
     */
    public LlavaConfig {
        Objects.requireNonNull(vision, "vision_config");
        Objects.requireNonNull(text, "text_config");
        Objects.requireNonNull(featureSelection, "vision_feature_select_strategy");
        if (imageTokenIndex < 0 || imageTokenIndex >= text.vocabSize()) {
            throw new IllegalArgumentException("image_token_index (" + imageTokenIndex
                    + ") is outside the text vocabulary [0, " + text.vocabSize() + ")");
        }
        if (!PROJECTOR_ACTIVATIONS.contains(projectorHiddenAct)) {
            throw new UnsupportedOperationException("projector_hidden_act '" + projectorHiddenAct
                    + "' is not supported; supported: " + String.join(", ", new java.util.TreeSet<>(PROJECTOR_ACTIVATIONS)));
        }
        featureLayers = List.copyOf(featureLayers);
        if (featureLayers.isEmpty()) {
            throw new IllegalArgumentException("vision_feature_layer names no layer");
        }
        for (int layer : featureLayers) {
            if (layer < -(vision.numLayers() + 1) || layer > vision.numLayers()) {
                throw new IllegalArgumentException("vision_feature_layer " + layer + " is outside the vision encoder's "
                        + (vision.numLayers() + 1) + " hidden states (valid: " + -(vision.numLayers() + 1) + " to "
                        + vision.numLayers() + ")");
            }
        }
    }

    /** @return image tokens per image: the patches, plus the class token under {@link FeatureSelection#FULL} */
    public int imageTokens() {
        return vision.numPatches() + (featureSelection == FeatureSelection.FULL ? 1 : 0);
    }

    /** @return the projector's input width: the vision width times the number of feature layers */
    public int featureWidth() {
        return vision.hiddenSize() * featureLayers.size();
    }

    /**
     * Returns where a feature layer sits in the encoder's hidden states {@code [embeddings, layer 1, ..., N]}.
     *
     * @param layer a {@code vision_feature_layer} entry
     * @return its index in {@code [0, N]}
     */
    public int hiddenStateIndex(int layer) {
        return layer < 0 ? vision.numLayers() + 1 + layer : layer;
    }

    /**
     * Reads a LLaVA {@code config.json}. Fields the file leaves out take transformers' defaults
     * ({@code CLIPVisionConfig}, {@code LlamaConfig}, {@code LlavaConfig}), as transformers does.
     *
     * @param file the config file
     * @return the config
     * @throws IOException when the file is missing or unreadable; {@link ModelFormatException} (naming the file and
     *     the field) when it is not a LLaVA config, or names a vision tower, strategy, layer or activation that
     *     is not supported
     */
    public static LlavaConfig load(Path file) throws IOException {
        ConfigJson json = ConfigJson.read(file, "a LLaVA model folder");
        String type = json.optString("model_type", null);
        if (!"llava".equals(type)) {
            throw new ModelFormatException(file, "model_type '" + type + "' is not a supported vision-language model;"
                    + " supported: llava (LLaVA-1.5 style: CLIP tower, MLP projector, decoder language model)");
        }
        VisionConfig vision = readVision(json, object(json, "vision_config"));
        ModelConfig text = readText(json, object(json, "text_config"));
        List<Integer> layers = new ArrayList<>();
        JsonNode layerNode = json.root().get("vision_feature_layer");
        if (layerNode == null || layerNode.isNull()) {
            layers.add(-2);
        } else if (layerNode.isArray()) {
            layerNode.forEach(n -> layers.add(n.asInt()));
        } else if (layerNode.isIntegralNumber()) {
            layers.add(layerNode.asInt());
        } else {
            throw new ModelFormatException(file, "vision_feature_layer must be an integer or a list of integers but is "
                    + layerNode);
        }
        String strategy = json.optString("vision_feature_select_strategy", "default");
        FeatureSelection selection = switch (strategy) {
            case "default" -> FeatureSelection.DEFAULT;
            case "full" -> FeatureSelection.FULL;
            default -> throw new ModelFormatException(file, "vision_feature_select_strategy '" + strategy
                    + "' is not supported; supported: default, full");
        };
        try {
            return new LlavaConfig(vision, text, json.optInt("image_token_index", json.optInt("image_token_id", 32000)),
                    json.optString("projector_hidden_act", "gelu"), json.optBoolean("multimodal_projector_bias", true),
                    layers, selection);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    private static ObjectNode object(ConfigJson json, String field) throws ModelFormatException {
        JsonNode n = json.root().get(field);
        if (n == null || !n.isObject()) {
            throw new ModelFormatException(json.file(), "field '" + field + "' is missing or not an object;"
                    + " a LLaVA config nests the vision tower's and the language model's configs there");
        }
        return (ObjectNode) n;
    }

    private static VisionConfig readVision(ConfigJson parent, ObjectNode node) throws IOException {
        Path file = parent.file();
        ConfigJson v = new ConfigJson(file, node);
        String type = v.optString("model_type", "clip_vision_model");
        if (!"clip_vision_model".equals(type)) {
            throw new ModelFormatException(file, "vision_config.model_type '" + type
                    + "' is not supported; supported: clip_vision_model (CLIP ViT)");
        }
        try {
            return new VisionConfig(v.optInt("hidden_size", 768), v.optInt("intermediate_size", 3072),
                    v.optInt("num_hidden_layers", 12), v.optInt("num_attention_heads", 12), v.optInt("num_channels", 3),
                    v.optInt("image_size", 224), v.optInt("patch_size", 32), v.optDouble("layer_norm_eps", 1e-5),
                    v.optString("hidden_act", "quick_gelu"));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new ModelFormatException(file, "vision_config: " + e.getMessage(), e);
        }
    }

    private static ModelConfig readText(ConfigJson parent, ObjectNode node) throws IOException {
        Path file = parent.file();
        ObjectNode copy = node.deepCopy();
        String type = copy.path("model_type").asText("llama").toLowerCase(Locale.ROOT);
        copy.put("model_type", type);
        if ("llama".equals(type)) {
            // transformers' LlamaConfig defaults, which LLaVA-1.5 checkpoints rely on (their text_config is sparse)
            putIfAbsent(copy, "vocab_size", 32000);
            putIfAbsent(copy, "hidden_size", 4096);
            putIfAbsent(copy, "intermediate_size", 11008);
            putIfAbsent(copy, "num_hidden_layers", 32);
            putIfAbsent(copy, "num_attention_heads", 32);
        }
        try {
            return Architectures.of(type).readConfig(new ConfigJson(file, copy));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "text_config: " + e.getMessage(), e);
        } catch (ModelFormatException e) {
            String message = e.getMessage();
            String prefix = file + ": ";
            throw new ModelFormatException(file, "text_config: "
                    + (message.startsWith(prefix) ? message.substring(prefix.length()) : message), e);
        }
    }

    private static void putIfAbsent(ObjectNode node, String field, int value) {
        if (!node.hasNonNull(field)) {
            node.put(field, value);
        }
    }
}
