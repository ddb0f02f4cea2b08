package org.llmkit.data;

import com.github.pemistahl.lingua.api.Language;
import com.github.pemistahl.lingua.api.LanguageDetector;
import com.github.pemistahl.lingua.api.LanguageDetectorBuilder;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Keeps documents in the kept languages; see {@link LanguageFilter}. */
final class LanguageStage implements Stage {

    static final String UNKNOWN = "unknown";

    private final LanguageFilter settings;
    private LanguageDetector detector;
    private final Map<String, LongAdder> distribution = new ConcurrentHashMap<>();

    LanguageStage(LanguageFilter settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "language";
    }

    @Override
    public void start() {
        distribution.clear();
        if (detector == null) {
            Language[] languages = settings.candidates().stream().map(LanguageFilter::toLanguage).toArray(Language[]::new);
            LanguageDetectorBuilder builder = LanguageDetectorBuilder.fromLanguages(languages).withPreloadedLanguageModels();
            if (!settings.highAccuracy()) {
                builder = builder.withLowAccuracyMode();
            }
            detector = builder.build();
        }
    }

    @Override
    public void process(Batch batch, Workers workers) {
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                String text = batch.docs[i].text();
                if (text.length() > settings.sampleChars()) {
                    text = text.substring(0, settings.sampleChars());
                }
                String code = codeOf(detector.detectLanguageOf(text));
                distribution.computeIfAbsent(code, c -> new LongAdder()).increment();
                if (!settings.keep().contains(code)) {
                    batch.dropReason[i] = "lang:" + code;
                }
            }
        });
    }

    private static String codeOf(Language language) {
        return language == Language.UNKNOWN ? UNKNOWN : language.getIsoCode639_1().toString().toLowerCase(Locale.ROOT);
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Long> counts = new TreeMap<>();
        distribution.forEach((code, count) -> counts.put(code, count.sum()));
        return Map.of("distribution", counts, "kept_languages", new java.util.TreeSet<>(settings.keep()));
    }
}
