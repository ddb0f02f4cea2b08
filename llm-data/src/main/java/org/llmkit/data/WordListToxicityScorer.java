package org.llmkit.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Scores texts by the density of listed words: {@code min(1, listed words / all words /
 * saturationDensity)}. With the default saturation density 0.02, one listed word in 100 scores
 * 0.5 and one in 50 or more scores 1. Words are maximal runs of letters, lower-cased. Immutable
 * and thread-safe.
 */
public final class WordListToxicityScorer implements ToxicityScorer {

    private static final String DEFAULT_LIST = "toxic-words-en.txt";
    private static final double DEFAULT_SATURATION = 0.02;

    private final Set<String> words;
    private final double saturationDensity;

    private WordListToxicityScorer(Set<String> words, double saturationDensity) {
        this.words = words;
        this.saturationDensity = saturationDensity;
    }

    /**
     * A scorer with the given words.
     *
     * @param words the listed words; matched lower-cased
     * @return the scorer
     * @throws IllegalArgumentException when the list is empty or holds a blank word
     */
    public static WordListToxicityScorer of(Collection<String> words) {
        Set<String> set = new HashSet<>();
        for (String word : words) {
            if (word == null || word.isBlank()) {
                throw new IllegalArgumentException("the word list holds a blank or null word");
            }
            set.add(word.strip().toLowerCase(Locale.ROOT));
        }
        if (set.isEmpty()) {
            throw new IllegalArgumentException("the word list is empty");
        }
        return new WordListToxicityScorer(Set.copyOf(set), DEFAULT_SATURATION);
    }

    /**
     * A scorer with the small English list of insults and profanity shipped with llm-data.
     *
     * @return the scorer
     */
    public static WordListToxicityScorer defaultEnglish() {
        Set<String> set = new HashSet<>();
        try (InputStream in = WordListToxicityScorer.class.getResourceAsStream(DEFAULT_LIST)) {
            if (in == null) {
                throw new IllegalStateException("resource " + DEFAULT_LIST + " is missing from the llm-data jar");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    set.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return of(set);
    }

    /**
     * Returns this scorer with another saturation density.
     *
     * @param density the fraction of listed words that scores 1, in (0, 1]
     * @return the new scorer
     */
    public WordListToxicityScorer saturationDensity(double density) {
        if (!(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("saturationDensity must be in (0, 1], was " + density);
        }
        return new WordListToxicityScorer(words, density);
    }

    @Override
    public double score(String text) {
        int total = 0;
        int listed = 0;
        int i = 0;
        int n = text.length();
        StringBuilder word = new StringBuilder();
        while (i < n) {
            while (i < n && !Character.isLetter(text.charAt(i))) {
                i++;
            }
            word.setLength(0);
            while (i < n && Character.isLetter(text.charAt(i))) {
                word.append(Character.toLowerCase(text.charAt(i)));
                i++;
            }
            if (word.length() > 0) {
                total++;
                if (words.contains(word.toString())) {
                    listed++;
                }
            }
        }
        return total == 0 ? 0 : Math.min(1, (double) listed / total / saturationDensity);
    }
}
