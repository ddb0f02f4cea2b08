package org.llmkit.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.llmkit.api.LanguageModel;

/**
 * A prompt and a model's response, shown to a human rater.
 *
 * @param id a unique id within a rating session: letters, digits, {@code _ - .}
 * @param prompt the prompt
 * @param response the model's response
 */
public record RatingItem(String id, String prompt, String response) {

    /**
     * Checks the components.
     *
     * @param id the id
     * @param prompt the prompt, not null
     * @param response the response, not null
     */
    public RatingItem {
        Objects.requireNonNull(id, "id");
        if (!id.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("rating item id must match [A-Za-z0-9_.-]+, was '" + id + "'");
        }
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(response, "response");
    }

    /**
     * Generates a greedy response for each prompt; the items are numbered {@code item-1}, {@code item-2}, ...
     *
     * @param model a model with a tokenizer
     * @param prompts at least one non-empty prompt
     * @param maxNewTokens the response length, at least 1
     * @return one item per prompt
     */
    public static List<RatingItem> generate(LanguageModel model, List<String> prompts, int maxNewTokens) {
        List<String> checked = ToxicityProbe.checkPrompts(prompts, "rating");
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, was " + maxNewTokens);
        }
        List<String> responses = Completions.greedy(model, checked, maxNewTokens, 8);
        List<RatingItem> items = new ArrayList<>();
        for (int i = 0; i < checked.size(); i++) {
            items.add(new RatingItem("item-" + (i + 1), checked.get(i), responses.get(i)));
        }
        return items;
    }
}
