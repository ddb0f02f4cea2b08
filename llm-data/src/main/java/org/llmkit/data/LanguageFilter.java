package org.llmkit.data;

import com.github.pemistahl.lingua.api.IsoCode639_1;
import com.github.pemistahl.lingua.api.Language;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Settings of the language stage: which languages to keep and which to tell them apart from.
 * Identification uses Lingua (n-gram models of 75 languages).
 *
 * <p>A document is kept when its detected language is in {@link #keep()}; otherwise it is dropped
 * with reason {@code lang:<code>} ({@code lang:unknown} when Lingua cannot decide). Lingua only
 * chooses among the candidate languages, so the candidates must include the languages that occur
 * in the corpus: by default the keep-list plus {@link #DEFAULT_CANDIDATES}. Low-accuracy mode
 * (trigrams only) is the default: about 11 MB of heap for all languages instead of about 134 MB,
 * and much faster on documents of a sentence or more. Only the first {@link #sampleChars()}
 * characters are looked at.
 *
 * @param keep ISO 639-1 codes to keep, for example {@code ["en"]}
 * @param candidates ISO 639-1 codes Lingua chooses among; includes {@code keep}
 * @param highAccuracy whether to use Lingua's high-accuracy mode (all n-gram sizes)
 * @param sampleChars characters of each document to look at, at least 20
 */
public record LanguageFilter(Set<String> keep, Set<String> candidates, boolean highAccuracy, int sampleChars) {

    /** Languages to tell the keep-list apart from when no candidates are given. */
    public static final List<String> DEFAULT_CANDIDATES = List.of(
            "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ro", "hu", "tr",
            "ru", "uk", "el", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "id", "th");

    /**
     * Validates the settings.
     *
     * @param keep see the record description
     * @param candidates see the record description
     * @param highAccuracy see the record description
     * @param sampleChars see the record description
     * @throws IllegalArgumentException when a code is not an ISO 639-1 code that Lingua knows, a
     *     kept language is not a candidate, or sampleChars is below 20
     */
    public LanguageFilter {
        keep = Set.copyOf(new LinkedHashSet<>(keep));
        candidates = Set.copyOf(new LinkedHashSet<>(candidates));
        if (keep.isEmpty()) {
            throw new IllegalArgumentException("keep must name at least one language (ISO 639-1 code such as \"en\")");
        }
        for (String code : candidates) {
            toLanguage(code);
        }
        for (String code : keep) {
            toLanguage(code);
            if (!candidates.contains(code)) {
                throw new IllegalArgumentException("kept language \"" + code + "\" is not among the candidates " + candidates);
            }
        }
        if (candidates.size() < 2) {
            throw new IllegalArgumentException("candidates must hold at least 2 languages, were " + candidates);
        }
        if (sampleChars < 20) {
            throw new IllegalArgumentException("sampleChars must be at least 20, was " + sampleChars);
        }
    }

    /**
     * Keeps the given languages, told apart from the {@link #DEFAULT_CANDIDATES}, in low-accuracy
     * mode, looking at the first 2,000 characters.
     *
     * @param keep ISO 639-1 codes, for example {@code "en"}
     * @return the settings
     * @throws IllegalArgumentException when a code is unknown
     */
    public static LanguageFilter keep(String... keep) {
        Set<String> kept = normalize(Arrays.asList(keep));
        Set<String> candidates = new LinkedHashSet<>(DEFAULT_CANDIDATES);
        candidates.addAll(kept);
        return new LanguageFilter(kept, candidates, false, 2000);
    }

    /**
     * Returns these settings with other candidate languages (the kept ones are added).
     *
     * @param codes ISO 639-1 codes
     * @return the new settings
     */
    public LanguageFilter withCandidates(String... codes) {
        Set<String> all = new LinkedHashSet<>(normalize(Arrays.asList(codes)));
        all.addAll(keep);
        return new LanguageFilter(keep, all, highAccuracy, sampleChars);
    }

    /**
     * Returns these settings in Lingua's high-accuracy mode (better on short texts, about 12 times
     * the heap).
     *
     * @return the new settings
     */
    public LanguageFilter withHighAccuracy() {
        return new LanguageFilter(keep, candidates, true, sampleChars);
    }

    /**
     * Returns these settings looking at another number of leading characters.
     *
     * @param chars at least 20
     * @return the new settings
     */
    public LanguageFilter withSampleChars(int chars) {
        return new LanguageFilter(keep, candidates, highAccuracy, chars);
    }

    private static Set<String> normalize(List<String> codes) {
        Set<String> out = new LinkedHashSet<>();
        for (String code : codes) {
            if (code == null) {
                throw new IllegalArgumentException("a language code is null");
            }
            out.add(code.trim().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    static Language toLanguage(String code) {
        try {
            Language language = Language.getByIsoCode639_1(IsoCode639_1.valueOf(code.toUpperCase(Locale.ROOT)));
            if (language == Language.UNKNOWN) {
                throw new IllegalArgumentException();
            }
            return language;
        } catch (IllegalArgumentException e) {
            List<String> known = new ArrayList<>();
            for (Language l : Language.values()) {
                if (l != Language.UNKNOWN) {
                    known.add(l.getIsoCode639_1().toString().toLowerCase(Locale.ROOT));
                }
            }
            throw new IllegalArgumentException("unknown language code \"" + code + "\"; expected an ISO 639-1 code "
                    + "that Lingua knows: " + known, e);
        }
    }
}
