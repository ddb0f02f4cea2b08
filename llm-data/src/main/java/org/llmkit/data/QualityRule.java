package org.llmkit.data;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * One named heuristic: a document passes or is dropped with the rule's name as the reason.
 *
 * @param name the name reports use, for example {@code word_count}
 * @param description what passes, for example {@code 50 <= words <= 100000}
 * @param test true when the document passes; must be thread-safe
 */
public record QualityRule(String name, String description, Predicate<TextStats> test) {

    /**
     * Validates the rule.
     *
     * @param name see the record description
     * @param description see the record description
     * @param test see the record description
     * @throws IllegalArgumentException when the name is blank
     */
    public QualityRule {
        Objects.requireNonNull(name, "name must not be null");
        Objects.requireNonNull(description, "description must not be null");
        Objects.requireNonNull(test, "test must not be null");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
    }

    /**
     * Creates a rule.
     *
     * @param name the name reports use
     * @param description what passes
     * @param test true when the document passes; must be thread-safe
     * @return the rule
     */
    public static QualityRule of(String name, String description, Predicate<TextStats> test) {
        return new QualityRule(name, description, test);
    }

    /**
     * Tells whether a document passes.
     *
     * @param stats the document's statistics
     * @return true when it passes
     */
    public boolean passes(TextStats stats) {
        return test.test(stats);
    }
}
