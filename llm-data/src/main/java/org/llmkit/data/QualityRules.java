package org.llmkit.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * An ordered, immutable set of {@link QualityRule}s. A document is dropped by the first rule it
 * fails, with that rule's name as the reason.
 *
 * <pre>{@code
 * QualityRules.gopher()                                   // Gopher's heuristics (Rae et al. 2021)
 * QualityRules.gopher().without("stop_words").and(QualityRules.c4())
 * QualityRules.of(QualityRule.of("short", "<= 1000 chars", s -> s.text().length() <= 1000))
 * }</pre>
 */
public final class QualityRules {

    private static final Set<String> GOPHER_STOP_WORDS = Set.of("the", "be", "to", "of", "and", "that", "have", "with");
    private static final Set<String> BULLETS = Set.of("•", "‣", "○", "◦", "-", "*", "–", "—", "·");

    private final List<QualityRule> rules;

    private QualityRules(List<QualityRule> rules) {
        this.rules = List.copyOf(rules);
        Set<String> names = new LinkedHashSet<>();
        for (QualityRule rule : this.rules) {
            if (!names.add(rule.name())) {
                throw new IllegalArgumentException("two rules are named \"" + rule.name() + "\"; rule names must be unique");
            }
        }
    }

    /**
     * Rules given explicitly.
     *
     * @param rules the rules, names unique
     * @return the rule set
     */
    public static QualityRules of(QualityRule... rules) {
        return new QualityRules(Arrays.asList(rules));
    }

    /**
     * The document-level heuristics of Gopher's MassiveText filtering (Rae et al. 2021, appendix A):
     * {@code word_count} (50 to 100,000 words), {@code mean_word_length} (3 to 10 characters),
     * {@code symbol_ratio} (# and ellipses at most 0.1 per word), {@code bullet_lines} (at most 90%
     * of lines start with a bullet), {@code ellipsis_lines} (at most 30% end with an ellipsis),
     * {@code alphabetic_words} (at least 80% of words contain a letter), {@code stop_words} (at least
     * 2 of the, be, to, of, and, that, have, with), {@code duplicate_lines} (at most 30% of lines
     * and 20% of line characters repeat), {@code duplicate_paragraphs} (30% / 20%),
     * {@code top_2gram}/{@code top_3gram}/{@code top_4gram} (the most frequent n-gram covers at most
     * 20/18/16% of characters) and {@code duplicate_5gram} to {@code duplicate_10gram} (characters in
     * repeated n-grams at most 15, 14, 13, 12, 11, 10%).
     *
     * @return the rule set
     */
    public static QualityRules gopher() {
        List<QualityRule> list = new ArrayList<>();
        list.add(QualityRule.of("word_count", "50 <= words <= 100000",
                s -> s.words().size() >= 50 && s.words().size() <= 100_000));
        list.add(QualityRule.of("mean_word_length", "3 <= mean word length <= 10",
                s -> between(meanWordLength(s), 3, 10)));
        list.add(QualityRule.of("symbol_ratio", "(# + ellipses) / words <= 0.1",
                s -> symbols(s) <= 0.1 * s.words().size()));
        list.add(QualityRule.of("bullet_lines", "lines starting with a bullet <= 90%",
                s -> fraction(s.lines(), QualityRules::startsWithBullet) <= 0.9));
        list.add(QualityRule.of("ellipsis_lines", "lines ending with an ellipsis <= 30%",
                s -> fraction(s.lines(), l -> l.endsWith("...") || l.endsWith("…")) <= 0.3));
        list.add(QualityRule.of("alphabetic_words", "words containing a letter >= 80%",
                s -> fraction(s.words(), QualityRules::hasLetter) >= 0.8));
        list.add(QualityRule.of("stop_words", ">= 2 of " + GOPHER_STOP_WORDS,
                s -> stopWords(s) >= 2));
        list.add(QualityRule.of("duplicate_lines", "repeated lines <= 30%, their characters <= 20%",
                s -> Repetition.duplicateFraction(s.lines()) <= 0.3 && Repetition.duplicateCharFraction(s.lines()) <= 0.2));
        list.add(QualityRule.of("duplicate_paragraphs", "repeated paragraphs <= 30%, their characters <= 20%",
                s -> Repetition.duplicateFraction(s.paragraphs()) <= 0.3
                        && Repetition.duplicateCharFraction(s.paragraphs()) <= 0.2));
        double[] top = {0.20, 0.18, 0.16};
        for (int n = 2; n <= 4; n++) {
            int size = n;
            double limit = top[n - 2];
            list.add(QualityRule.of("top_" + n + "gram", "most frequent " + n + "-gram covers <= " + limit + " of characters",
                    s -> Repetition.topNgramCharFraction(s.words(), size) <= limit));
        }
        double[] dup = {0.15, 0.14, 0.13, 0.12, 0.11, 0.10};
        for (int n = 5; n <= 10; n++) {
            int size = n;
            double limit = dup[n - 5];
            list.add(QualityRule.of("duplicate_" + n + "gram", "characters in repeated " + n + "-grams <= " + limit,
                    s -> Repetition.duplicateNgramCharFraction(s.words(), size) <= limit));
        }
        return new QualityRules(list);
    }

    /**
     * The page-level heuristics of C4 (Raffel et al. 2020): {@code lorem_ipsum} (no "lorem ipsum"),
     * {@code curly_bracket} (no "{", which marks code), {@code min_sentences} (at least 3
     * sentences ending in . ! ? or a quote after one).
     *
     * @return the rule set
     */
    public static QualityRules c4() {
        return new QualityRules(List.of(
                QualityRule.of("lorem_ipsum", "no \"lorem ipsum\"",
                        s -> !s.text().toLowerCase(Locale.ROOT).contains("lorem ipsum")),
                QualityRule.of("curly_bracket", "no \"{\"", s -> s.text().indexOf('{') < 0),
                QualityRule.of("min_sentences", ">= 3 sentences", s -> sentences(s) >= 3)));
    }

    /**
     * Returns these rules followed by others.
     *
     * @param more further rules; names must not repeat
     * @return the new rule set
     */
    public QualityRules and(QualityRules more) {
        List<QualityRule> list = new ArrayList<>(rules);
        list.addAll(more.rules);
        return new QualityRules(list);
    }

    /**
     * Returns these rules followed by one more.
     *
     * @param rule the rule; its name must not repeat
     * @return the new rule set
     */
    public QualityRules with(QualityRule rule) {
        Objects.requireNonNull(rule, "rule must not be null");
        List<QualityRule> list = new ArrayList<>(rules);
        list.add(rule);
        return new QualityRules(list);
    }

    /**
     * Returns these rules without the named ones.
     *
     * @param names rule names; each must be present
     * @return the new rule set
     * @throws IllegalArgumentException naming an absent rule and listing the present ones
     */
    public QualityRules without(String... names) {
        Set<String> drop = new LinkedHashSet<>(Arrays.asList(names));
        List<String> present = names();
        for (String name : drop) {
            if (!present.contains(name)) {
                throw new IllegalArgumentException("no rule named \"" + name + "\"; rules are " + present);
            }
        }
        return new QualityRules(rules.stream().filter(r -> !drop.contains(r.name())).toList());
    }

    /**
     * Returns the rules in order.
     *
     * @return an unmodifiable list
     */
    public List<QualityRule> rules() {
        return rules;
    }

    /**
     * Returns the rule names in order.
     *
     * @return the names
     */
    public List<String> names() {
        return rules.stream().map(QualityRule::name).toList();
    }

    /**
     * Returns the first rule a text fails.
     *
     * @param text the text
     * @return the failing rule's name, or null when every rule passes
     */
    public String firstFailure(String text) {
        TextStats stats = TextStats.of(text);
        for (QualityRule rule : rules) {
            if (!rule.passes(stats)) {
                return rule.name();
            }
        }
        return null;
    }

    private static boolean between(double value, double low, double high) {
        return value >= low && value <= high;
    }

    private static double meanWordLength(TextStats s) {
        if (s.words().isEmpty()) {
            return 0;
        }
        long chars = 0;
        for (String word : s.words()) {
            chars += word.length();
        }
        return (double) chars / s.words().size();
    }

    private static int symbols(TextStats s) {
        int count = 0;
        String text = s.text();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '#' || c == '…') {
                count++;
            } else if (c == '.' && text.startsWith("...", i)) {
                count++;
                i += 2;
            }
        }
        return count;
    }

    private static boolean startsWithBullet(String line) {
        String first = line.substring(0, line.offsetByCodePoints(0, 1));
        return BULLETS.contains(first);
    }

    private static boolean hasLetter(String word) {
        for (int i = 0; i < word.length(); i++) {
            if (Character.isLetter(word.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static int stopWords(TextStats s) {
        Set<String> found = new LinkedHashSet<>();
        for (String word : s.words()) {
            String w = stripPunctuation(word).toLowerCase(Locale.ROOT);
            if (GOPHER_STOP_WORDS.contains(w)) {
                found.add(w);
                if (found.size() >= 2) {
                    break;
                }
            }
        }
        return found.size();
    }

    private static String stripPunctuation(String word) {
        int start = 0;
        int end = word.length();
        while (start < end && !Character.isLetterOrDigit(word.charAt(start))) {
            start++;
        }
        while (end > start && !Character.isLetterOrDigit(word.charAt(end - 1))) {
            end--;
        }
        return word.substring(start, end);
    }

    private static int sentences(TextStats s) {
        int count = 0;
        String text = s.text();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c == '.' || c == '!' || c == '?') && (i + 1 == text.length() || !Character.isLetterOrDigit(text.charAt(i + 1)))) {
                count++;
                while (i + 1 < text.length() && ".!?".indexOf(text.charAt(i + 1)) >= 0) {
                    i++;
                }
            }
        }
        return count;
    }

    private static <T> double fraction(List<T> items, java.util.function.Predicate<T> test) {
        if (items.isEmpty()) {
            return 0;
        }
        int n = 0;
        for (T item : items) {
            if (test.test(item)) {
                n++;
            }
        }
        return (double) n / items.size();
    }

    @Override
    public String toString() {
        return "QualityRules" + names();
    }
}
