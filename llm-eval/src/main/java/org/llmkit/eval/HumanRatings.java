package org.llmkit.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.llmkit.api.io.AtomicFiles;

/**
 * The ratings collected for a set of items, immutable, and their aggregate.
 *
 * <p>{@link #metrics()} (the report's {@value Evaluator#HUMAN} section): {@code items},
 * {@code items_rated}, {@code ratings}, {@code mean_score}, {@code share_at_least_4},
 * {@code score_1}..{@code score_5} (counts) and {@code comments} (non-empty comments).
 */
public final class HumanRatings {
    private final List<RatingItem> items;
    private final List<Rating> ratings;

    private HumanRatings(List<RatingItem> items, List<Rating> ratings) {
        this.items = items;
        this.ratings = ratings;
    }

    /**
     * Checks that every rating names a known item.
     *
     * @param items the items shown
     * @param ratings the ratings, at least one
     * @return the ratings
     */
    public static HumanRatings of(List<RatingItem> items, List<Rating> ratings) {
        Set<String> ids = new HashSet<>();
        for (RatingItem i : items) {
            if (!ids.add(i.id())) {
                throw new IllegalArgumentException("rating item id '" + i.id() + "' is used twice");
            }
        }
        if (ratings.isEmpty()) {
            throw new IllegalArgumentException("no ratings yet: human ratings need at least one rated item");
        }
        for (Rating r : ratings) {
            if (!ids.contains(r.itemId())) {
                throw new IllegalArgumentException("rating for unknown item '" + r.itemId() + "'; items: " + ids);
            }
        }
        return new HumanRatings(List.copyOf(items), List.copyOf(ratings));
    }

    /**
     * Returns the items.
     *
     * @return an unmodifiable list
     */
    public List<RatingItem> items() {
        return items;
    }

    /**
     * Returns the ratings, in the order they arrived.
     *
     * @return an unmodifiable list
     */
    public List<Rating> ratings() {
        return ratings;
    }

    /**
     * Returns the mean score.
     *
     * @return the mean over all ratings, in [1, 5]
     */
    public double meanScore() {
        return ratings.stream().mapToInt(Rating::score).average().orElseThrow();
    }

    /**
     * Aggregates the ratings.
     *
     * @return the metrics (see the class comment)
     */
    public Map<String, Double> metrics() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("items", (double) items.size());
        out.put("items_rated", (double) ratings.stream().map(Rating::itemId).distinct().count());
        out.put("ratings", (double) ratings.size());
        out.put("mean_score", meanScore());
        out.put("share_at_least_4", ratings.stream().filter(r -> r.score() >= 4).count() / (double) ratings.size());
        for (int s = 1; s <= 5; s++) {
            int score = s;
            out.put("score_" + s, (double) ratings.stream().filter(r -> r.score() == score).count());
        }
        out.put("comments", (double) ratings.stream().filter(r -> !r.comment().isBlank()).count());
        return out;
    }

    /**
     * Renders items and ratings, comments included, as JSON.
     *
     * @return {@code {"items": [...], "ratings": [{"item": .., "score": .., "comment": ..}]}}
     */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ArrayNode itemNodes = root.putArray("items");
        items.forEach(i -> itemNodes.addObject().put("id", i.id()).put("prompt", i.prompt()).put("response", i.response()));
        ArrayNode ratingNodes = root.putArray("ratings");
        ratings.forEach(r -> ratingNodes.addObject().put("item", r.itemId()).put("score", r.score())
                .put("comment", r.comment()));
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render ratings JSON", e);
        }
    }

    /**
     * Writes {@link #toJson()} to a file atomically.
     *
     * @param file the target file
     * @throws IOException when it cannot be written
     */
    public void writeTo(Path file) throws IOException {
        AtomicFiles.writeString(file, toJson());
    }
}
