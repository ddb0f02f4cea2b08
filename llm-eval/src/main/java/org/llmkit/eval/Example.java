package org.llmkit.eval;

import java.util.List;
import java.util.Objects;

/**
 * One multiple-choice item: a context, its answer choices and the index of the correct one.
 *
 * @param context the text the prompt template wraps, for example a question
 * @param choices the answers, at least two, none null or empty; copied
 * @param gold the index of the correct choice, in [0, choices.size())
 */
public record Example(String context, List<String> choices, int gold) {

    /**
     * Checks and copies the components.
     *
     * @param context the context, not null
     * @param choices at least two non-empty choices
     * @param gold the correct choice's index
     */
    public Example {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(choices, "choices");
        if (choices.size() < 2) {
            throw new IllegalArgumentException("an example needs at least 2 choices, had " + choices.size());
        }
        for (int i = 0; i < choices.size(); i++) {
            if (choices.get(i) == null || choices.get(i).isEmpty()) {
                throw new IllegalArgumentException("choices[" + i + "] is null or empty");
            }
        }
        choices = List.copyOf(choices);
        if (gold < 0 || gold >= choices.size()) {
            throw new IllegalArgumentException("gold must be in [0, " + choices.size() + ") (a choice index), was "
                    + gold);
        }
    }
}
