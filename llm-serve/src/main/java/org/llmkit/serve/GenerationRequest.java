package org.llmkit.serve;

import java.util.List;
import java.util.Objects;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;

/**
 * What one client asked to generate, already validated and tokenized: the unit a {@link Scheduler} runs.
 *
 * @param promptIds the prompt's token ids (chat template already applied for chat requests); non-empty
 * @param maxNewTokens upper bound on generated tokens; &gt; 0
 * @param temperature sampling temperature in [0, 2]; 0 means greedy; null keeps the model's default
 * @param topP nucleus sampling mass in (0, 1]; null keeps the model's default
 * @param seed sampler seed; null keeps the default seed
 * @param stops stop strings (never part of the output); may be empty
 */
public record GenerationRequest(int[] promptIds, int maxNewTokens, Double temperature, Double topP, Long seed,
        List<String> stops) {

    /**
     * Validates the components and copies the mutable ones.
     *
     * @param promptIds the prompt's token ids; non-empty
     * @param maxNewTokens upper bound on generated tokens; &gt; 0
     * @param temperature sampling temperature in [0, 2], or null
     * @param topP nucleus sampling mass in (0, 1], or null
     * @param seed sampler seed, or null
     * @param stops stop strings; not null
     */
    public GenerationRequest {
        Objects.requireNonNull(promptIds, "promptIds");
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("promptIds is empty; at least one token is needed");
        }
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("maxNewTokens must be > 0 but is " + maxNewTokens);
        }
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            throw new IllegalArgumentException("temperature must be in [0, 2] but is " + temperature);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] but is " + topP);
        }
        promptIds = promptIds.clone();
        stops = List.copyOf(stops);
    }

    /** @return a copy of the prompt's token ids */
    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }

    /**
     * Turns this request into an llm-api generation on {@code model}: the model's defaults (EOS ids, sampling
     * from {@code generation_config.json}) overridden by what the client sent.
     *
     * @param model the model
     * @return the configured generation (not run)
     */
    public Generation toGeneration(LanguageModel model) {
        Generation g = model.generate(promptIds).maxNewTokens(maxNewTokens);
        // order matters: topP() and temperature() switch greedy off, greedy() switches it back on
        if (topP != null && topP < 1) {
            g.topP(topP);
        }
        if (temperature != null) {
            if (temperature == 0) {
                g.greedy();
            } else {
                g.temperature(temperature);
            }
        }
        if (seed != null) {
            g.seed(seed);
        }
        if (!stops.isEmpty()) {
            g.stop(stops.toArray(String[]::new));
        }
        return g;
    }

    /** @return the prompt length in tokens */
    public int promptLength() {
        return promptIds.length;
    }
}
