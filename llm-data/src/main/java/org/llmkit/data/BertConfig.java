package org.llmkit.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a transformers {@code BertConfig} that a sequence classifier needs, validated.
 *
 * @param hiddenSize hidden_size
 * @param layers num_hidden_layers
 * @param heads num_attention_heads; divides hidden_size
 * @param intermediateSize intermediate_size
 * @param maxPositions max_position_embeddings
 * @param layerNormEps layer_norm_eps
 * @param hiddenAct hidden_act: {@code gelu} (erf) or {@code gelu_new} (tanh approximation)
 * @param labels id2label in id order
 */
record BertConfig(int hiddenSize, int layers, int heads, int intermediateSize, int maxPositions,
                  double layerNormEps, String hiddenAct, List<String> labels) {

    BertConfig {
        if (hiddenSize <= 0 || layers <= 0 || heads <= 0 || intermediateSize <= 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("hidden_size, num_hidden_layers, num_attention_heads, intermediate_size "
                    + "and max_position_embeddings must be positive");
        }
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not a multiple of num_attention_heads ("
                    + heads + ")");
        }
        if (!hiddenAct.equals("gelu") && !hiddenAct.equals("gelu_new")) {
            throw new UnsupportedOperationException("hidden_act \"" + hiddenAct + "\" is not supported; supported: gelu, gelu_new");
        }
        labels = List.copyOf(labels);
    }

    static BertConfig load(Path folder) throws IOException {
        Path file = folder.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "BERT classifier folder has no config.json");
        }
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        String type = json.path("model_type").asText("");
        if (!type.equals("bert")) {
            throw new IOException(file + ": model_type is \"" + type + "\", expected \"bert\"");
        }
        List<String> labels = new ArrayList<>();
        JsonNode id2label = json.path("id2label");
        int count = id2label.size() > 0 ? id2label.size() : json.path("num_labels").asInt(2);
        for (int i = 0; i < count; i++) {
            labels.add(id2label.path(Integer.toString(i)).asText("LABEL_" + i));
        }
        try {
            return new BertConfig(
                    required(json, "hidden_size", file), required(json, "num_hidden_layers", file),
                    required(json, "num_attention_heads", file), required(json, "intermediate_size", file),
                    required(json, "max_position_embeddings", file), json.path("layer_norm_eps").asDouble(1e-12),
                    json.path("hidden_act").asText("gelu"), labels);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static int required(JsonNode json, String field, Path file) throws IOException {
        JsonNode node = json.get(field);
        if (node == null || !node.canConvertToInt()) {
            throw new IOException(file + ": missing or non-integer \"" + field + "\"");
        }
        return node.asInt();
    }
}
