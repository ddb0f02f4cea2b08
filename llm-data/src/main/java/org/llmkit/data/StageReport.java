package org.llmkit.data;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one stage of a run did: documents in, out, and dropped by reason, plus stage-specific
 * figures (a language distribution, the size of dedup state, ...).
 *
 * @param name the stage name, for example {@code read}, {@code dedup}, {@code quality}
 * @param in documents that entered the stage
 * @param out documents that left it
 * @param droppedByReason dropped documents by reason, in order of first occurrence; sums to {@code in - out}
 * @param seconds wall-clock time spent in the stage
 * @param details stage-specific figures
 */
public record StageReport(String name, long in, long out, Map<String, Long> droppedByReason, double seconds,
                          Map<String, Object> details) {

    /**
     * Validates and copies the report.
     *
     * @param name see the record description
     * @param in see the record description
     * @param out see the record description
     * @param droppedByReason see the record description
     * @param seconds see the record description
     * @param details see the record description
     * @throws IllegalArgumentException when the drops do not add up to {@code in - out}
     */
    public StageReport {
        droppedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(droppedByReason));
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
        long dropped = droppedByReason.values().stream().mapToLong(Long::longValue).sum();
        if (in - out != dropped) {
            throw new IllegalArgumentException("stage " + name + ": in (" + in + ") - out (" + out + ") != dropped ("
                    + dropped + ")");
        }
    }

    /**
     * Returns the number of dropped documents.
     *
     * @return {@code in - out}
     */
    public long dropped() {
        return in - out;
    }
}
