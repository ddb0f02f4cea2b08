package org.llmkit.eval;

import java.util.Objects;

/**
 * One item of a {@link ScaleTask}: a context and its gold number, such as an STS-B similarity.
 *
 * @param context the text the prompt template wraps
 * @param gold the gold value, finite
 */
public record ScaleExample(String context, double gold) {

    /**
     * Checks the components.
     *
     * @param context the context, not null
     * @param gold a finite value
     */
    public ScaleExample {
        Objects.requireNonNull(context, "context");
        if (!Double.isFinite(gold)) {
            throw new IllegalArgumentException("gold must be a finite number, was " + gold);
        }
    }
}
