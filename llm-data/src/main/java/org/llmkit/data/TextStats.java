package org.llmkit.data;

import java.util.ArrayList;
import java.util.List;

/**
 * A document's text split the way quality rules look at it, computed once per document: words
 * (maximal runs of non-whitespace), non-empty lines, and paragraphs (separated by blank lines).
 * Immutable; the lists are unmodifiable.
 */
public final class TextStats {

    private final String text;
    private final List<String> words;
    private final List<String> lines;
    private final List<String> paragraphs;

    private TextStats(String text) {
        this.text = text;
        this.words = splitWords(text);
        this.lines = splitNonEmpty(text, "\n");
        this.paragraphs = splitNonEmpty(text, "\n\\s*\n");
    }

    /**
     * Computes the statistics of a text.
     *
     * @param text the text
     * @return the statistics
     */
    public static TextStats of(String text) {
        return new TextStats(text);
    }

    /**
     * Returns the text.
     *
     * @return the text
     */
    public String text() {
        return text;
    }

    /**
     * Returns the words: maximal runs of non-whitespace characters, punctuation included.
     *
     * @return the words in order
     */
    public List<String> words() {
        return words;
    }

    /**
     * Returns the lines that are not blank, trimmed.
     *
     * @return the lines in order
     */
    public List<String> lines() {
        return lines;
    }

    /**
     * Returns the paragraphs: text between blank lines, trimmed.
     *
     * @return the paragraphs in order
     */
    public List<String> paragraphs() {
        return paragraphs;
    }

    private static List<String> splitWords(String text) {
        List<String> out = new ArrayList<>(text.length() / 5 + 1);
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(text.substring(start, i));
            }
        }
        return List.copyOf(out);
    }

    private static List<String> splitNonEmpty(String text, String separator) {
        List<String> out = new ArrayList<>();
        for (String part : text.split(separator)) {
            String trimmed = part.strip();
            if (!trimmed.isEmpty()) {
                out.add(trimmed);
            }
        }
        return List.copyOf(out);
    }
}
