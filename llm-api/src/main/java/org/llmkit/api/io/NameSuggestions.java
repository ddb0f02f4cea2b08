package org.llmkit.api.io;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/** Finds the known names closest to a missing one, for "did you mean" error messages. */
final class NameSuggestions {

    /** How many close names an error message lists at most. */
    static final int MAX_SUGGESTIONS = 5;

    private NameSuggestions() {
    }

    /**
     * Describes a missing name and its closest known names.
     *
     * @param missing the name asked for
     * @param known the names that exist, in a stable order
     * @return for example {@code "; closest names: [a, b]"}, or {@code "; it has no tensors"}
     */
    static String describe(String missing, Collection<String> known) {
        if (known.isEmpty()) {
            return "; it has no tensors";
        }
        List<String> closest = closest(missing, known, MAX_SUGGESTIONS);
        return "; closest names (" + known.size() + " tensors in total): " + closest;
    }

    /**
     * Returns up to {@code limit} names of {@code known} with the smallest edit distance to
     * {@code missing}, ties in the order of {@code known}.
     *
     * @param missing the name asked for
     * @param known the names that exist
     * @param limit the maximum number of names returned
     * @return the closest names, closest first
     */
    static List<String> closest(String missing, Collection<String> known, int limit) {
        String target = missing == null ? "" : missing;
        return known.stream()
                .map(name -> new Scored(name, editDistance(target, name)))
                .sorted(Comparator.comparingInt(Scored::distance))
                .limit(limit)
                .map(Scored::name)
                .collect(Collectors.toList());
    }

    /** Levenshtein distance with two rolling rows. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private record Scored(String name, int distance) {
    }
}
