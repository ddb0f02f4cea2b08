package org.llmkit.eval;

/** A metric a {@link GenerationTask} can report; predictions and references are compared after trimming. */
public enum GenerationMetric {
    /** {@code exact_match}: share of predictions equal to one of their references. */
    EXACT_MATCH("exact_match"),
    /** {@code bleu}: corpus BLEU, sacreBLEU defaults, all references; 0-100. */
    BLEU("bleu"),
    /** {@code rouge1}: mean over examples of the best ROUGE-1 F-measure against any reference. */
    ROUGE1("rouge1"),
    /** {@code rouge2}: the same with bigrams. */
    ROUGE2("rouge2"),
    /** {@code rougeL}: the same with the longest common subsequence. */
    ROUGE_L("rougeL");

    private final String key;

    GenerationMetric(String key) {
        this.key = key;
    }

    /**
     * Returns the name the metric has in reports.
     *
     * @return for example {@code "rougeL"}
     */
    public String key() {
        return key;
    }
}
