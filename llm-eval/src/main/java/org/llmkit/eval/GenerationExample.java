package org.llmkit.eval;

import java.util.List;
import java.util.Objects;

/**
 * One item of a {@link GenerationTask}: a context and the acceptable answers.
 *
 * @param context the text the prompt template wraps
 * @param references at least one reference answer, none null; copied
 */
public record GenerationExample(String context, List<String> references) {

    /**
     * Checks and copies the components.
     *
     * @param context the context, not null
     * @param references at least one non-null reference
     */
    public GenerationExample {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(references, "references");
        if (references.isEmpty()) {
            throw new IllegalArgumentException("a generation example needs at least one reference");
        }
        references = List.copyOf(references);
    }

    /**
     * An example with a single reference.
     *
     * @param context the context
     * @param reference the reference answer
     * @return the example
     */
    public static GenerationExample of(String context, String reference) {
        return new GenerationExample(context, List.of(reference));
    }
}
