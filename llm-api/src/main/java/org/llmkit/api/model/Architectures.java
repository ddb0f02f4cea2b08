package org.llmkit.api.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.ModelFormatException;

/**
 * The registry of supported architectures, keyed by HF {@code model_type}. Adding an architecture is a
 * small class implementing {@link Architecture} (usually extending {@link LlamaArchitecture}) and one
 * line here.
 */
public final class Architectures {
    private static final Map<String, Supplier<Architecture>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put("llama", LlamaArchitecture::new);
        REGISTRY.put("mistral", MistralArchitecture::new);
        REGISTRY.put("qwen2", Qwen2Architecture::new);
        REGISTRY.put("gpt2", Gpt2Architecture::new);
    }

    private Architectures() { }

    /**
     * Looks an architecture up.
     *
     * @param modelType the HF {@code model_type}
     * @return the architecture
     * @throws IllegalArgumentException naming the supported types when unknown
     */
    public static Architecture of(String modelType) {
        Supplier<Architecture> s = modelType == null ? null : REGISTRY.get(modelType.toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not supported; supported: "
                    + String.join(", ", REGISTRY.keySet()));
        }
        return s.get();
    }

    /**
     * Reads a {@code config.json} with the architecture its {@code model_type} names.
     *
     * @param file the config file
     * @return the config
     * @throws IOException when missing, unreadable or invalid (the message names the file and the field)
     */
    public static ModelConfig readConfig(Path file) throws IOException {
        ConfigJson json = ConfigJson.read(file, "a HuggingFace model folder");
        String type = json.optString("model_type", null);
        if (type == null) {
            throw new ModelFormatException(file, "field 'model_type' is missing; expected one of "
                    + String.join(", ", REGISTRY.keySet()));
        }
        Architecture arch;
        try {
            arch = of(type);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
        return arch.readConfig(json);
    }
}
