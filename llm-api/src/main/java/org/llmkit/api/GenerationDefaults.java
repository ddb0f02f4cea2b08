package org.llmkit.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.llmkit.api.generate.SamplingSettings;

/**
 * Generation defaults from a model's {@code generation_config.json}.
 *
 * @param sampling sampling settings ({@code do_sample}, {@code temperature}, {@code top_k}, {@code top_p},
 *     {@code repetition_penalty})
 * @param maxNewTokens {@code max_new_tokens}, else 128
 * @param eosTokenIds {@code eos_token_id} (int or list), else the config's
 */
record GenerationDefaults(SamplingSettings sampling, int maxNewTokens, Set<Integer> eosTokenIds) {
    static final int DEFAULT_MAX_NEW_TOKENS = 128;

    static GenerationDefaults of(ModelConfig config) {
        return new GenerationDefaults(SamplingSettings.GREEDY, DEFAULT_MAX_NEW_TOKENS,
                new LinkedHashSet<>(config.eosTokenIds()));
    }

    static GenerationDefaults read(Path folder, ModelConfig config) throws IOException {
        Path file = folder.resolve("generation_config.json");
        if (!Files.isRegularFile(file)) {
            return of(config);
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        Set<Integer> eos = new LinkedHashSet<>();
        JsonNode e = n.get("eos_token_id");
        if (e != null && e.isArray()) {
            e.forEach(x -> eos.add(x.asInt()));
        } else if (e != null && e.isIntegralNumber()) {
            eos.add(e.asInt());
        } else {
            eos.addAll(config.eosTokenIds());
        }
        for (int id : eos) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new ModelFormatException(file, "eos_token_id " + id + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
        try {
            boolean sample = n.path("do_sample").asBoolean(false);
            SamplingSettings s = new SamplingSettings(!sample,
                    n.path("temperature").asDouble(1.0), n.path("top_k").asInt(sample ? 50 : 0), n.path("top_p").asDouble(1.0),
                    n.path("repetition_penalty").asDouble(1.0), 0);
            return new GenerationDefaults(s, n.path("max_new_tokens").asInt(DEFAULT_MAX_NEW_TOKENS), eos);
        } catch (IllegalArgumentException ex) {
            throw new ModelFormatException(file, ex.getMessage(), ex);
        }
    }
}
