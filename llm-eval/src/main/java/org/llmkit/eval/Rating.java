package org.llmkit.eval;

import java.util.Objects;

/**
 * One human judgement of a {@link RatingItem}.
 *
 * @param itemId the rated item's id
 * @param score from 1 (bad) to 5 (excellent)
 * @param comment the rater's comment, possibly empty
 */
public record Rating(String itemId, int score, String comment) {

    /**
     * Checks the components.
     *
     * @param itemId the item id, not null
     * @param score in [1, 5]
     * @param comment not null
     */
    public Rating {
        Objects.requireNonNull(itemId, "itemId");
        Objects.requireNonNull(comment, "comment");
        if (score < 1 || score > 5) {
            throw new IllegalArgumentException("score must be in [1, 5], was " + score + " (item '" + itemId + "')");
        }
    }
}
