package org.llmkit.data;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Repetition measures of Gopher (Rae et al. 2021, table A1), computed on words, lines and paragraphs. */
final class Repetition {

    private Repetition() {
    }

    /** Fraction of items that repeat an earlier item. */
    static double duplicateFraction(List<String> items) {
        if (items.isEmpty()) {
            return 0;
        }
        Set<String> seen = new HashSet<>();
        int duplicates = 0;
        for (String item : items) {
            if (!seen.add(item)) {
                duplicates++;
            }
        }
        return (double) duplicates / items.size();
    }

    /** Characters in items that repeat an earlier item, over all characters of the items. */
    static double duplicateCharFraction(List<String> items) {
        long total = 0;
        long duplicated = 0;
        Set<String> seen = new HashSet<>();
        for (String item : items) {
            total += item.length();
            if (!seen.add(item)) {
                duplicated += item.length();
            }
        }
        return total == 0 ? 0 : (double) duplicated / total;
    }

    /** Characters covered by the most frequent word n-gram (all its occurrences), over all word characters. */
    static double topNgramCharFraction(List<String> words, int n) {
        if (words.size() < n) {
            return 0;
        }
        long[] hashes = ngramHashes(words, n);
        Map<Long, Integer> counts = new HashMap<>();
        long best = 0;
        int bestCount = 0;
        for (long h : hashes) {
            int c = counts.merge(h, 1, Integer::sum);
            if (c > bestCount) {
                bestCount = c;
                best = h;
            }
        }
        if (bestCount < 2) {
            return 0;
        }
        int start = -1;
        for (int i = 0; i < hashes.length; i++) {
            if (hashes[i] == best) {
                start = i;
                break;
            }
        }
        long ngramChars = 0;
        for (int j = 0; j < n; j++) {
            ngramChars += words.get(start + j).length();
        }
        return (double) ngramChars * bestCount / totalChars(words);
    }

    /** Characters of words inside n-grams that occur more than once (each word counted once), over all word characters. */
    static double duplicateNgramCharFraction(List<String> words, int n) {
        if (words.size() < n) {
            return 0;
        }
        long[] hashes = ngramHashes(words, n);
        Map<Long, Integer> counts = new HashMap<>();
        for (long h : hashes) {
            counts.merge(h, 1, Integer::sum);
        }
        boolean[] covered = new boolean[words.size()];
        for (int i = 0; i < hashes.length; i++) {
            if (counts.get(hashes[i]) > 1) {
                for (int j = 0; j < n; j++) {
                    covered[i + j] = true;
                }
            }
        }
        long duplicated = 0;
        for (int i = 0; i < covered.length; i++) {
            if (covered[i]) {
                duplicated += words.get(i).length();
            }
        }
        return (double) duplicated / totalChars(words);
    }

    private static long totalChars(List<String> words) {
        long total = 0;
        for (String word : words) {
            total += word.length();
        }
        return Math.max(1, total);
    }

    private static long[] ngramHashes(List<String> words, int n) {
        long[] wordHashes = new long[words.size()];
        for (int i = 0; i < wordHashes.length; i++) {
            wordHashes[i] = MinHasher.mix(words.get(i).hashCode() * 0x9e3779b97f4a7c15L + words.get(i).length());
        }
        long[] out = new long[words.size() - n + 1];
        for (int i = 0; i < out.length; i++) {
            long h = 0;
            for (int j = 0; j < n; j++) {
                h = MinHasher.mix(h ^ wordHashes[i + j]);
            }
            out[i] = h;
        }
        return out;
    }
}
