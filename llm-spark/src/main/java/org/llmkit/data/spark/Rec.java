package org.llmkit.data.spark;

import org.llmkit.data.Document;

import java.io.Serializable;
import java.util.Map;

/**
 * One record travelling through the Spark plan: a live document, the trace of a dropped one, or a
 * partition's summary (details of the per-document steps it ran). Records never leave their source
 * partition, so partitions stay in source order; decisions that need the whole corpus (dedup) are
 * computed aside and broadcast as sets of ordinals.
 */
final class Rec implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Position among the documents read, in source order; -1 for a summary. */
    final long ordinal;
    /** The document while alive, else null. */
    final Document doc;
    /** The plan index of the step that dropped it, or -1. */
    final int droppedAt;
    /** The drop reason, or null. */
    final String reason;
    /** Tokens once tokenized. */
    final int[] tokens;
    /** Step details of a summary record (plan index to details), else null. */
    final Map<Integer, Map<String, Object>> details;
    /** Token-length counts of a summary record, else null. */
    final long[] lengths;

    private Rec(long ordinal, Document doc, int droppedAt, String reason, int[] tokens,
                Map<Integer, Map<String, Object>> details, long[] lengths) {
        this.ordinal = ordinal;
        this.doc = doc;
        this.droppedAt = droppedAt;
        this.reason = reason;
        this.tokens = tokens;
        this.details = details;
        this.lengths = lengths;
    }

    static Rec alive(long ordinal, Document doc, int[] tokens) {
        return new Rec(ordinal, doc, -1, null, tokens, null, null);
    }

    static Rec dropped(long ordinal, int step, String reason) {
        return new Rec(ordinal, null, step, reason, null, null, null);
    }

    static Rec summary(Map<Integer, Map<String, Object>> details, long[] lengths) {
        return new Rec(-1, null, -1, null, null, details, lengths);
    }

    boolean isSummary() {
        return ordinal < 0;
    }

    boolean isAlive() {
        return ordinal >= 0 && droppedAt < 0;
    }
}
