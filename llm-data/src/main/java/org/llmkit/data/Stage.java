package org.llmkit.data;

import java.util.Map;

/**
 * One step of a {@link Pipeline}: it sees the live documents of each batch, in source order, and may
 * replace them or drop them with a reason. Stages that keep state (dedup) are called from one
 * thread, batch after batch; per-document work may be spread over the {@link Workers}.
 */
interface Stage {

    /** The stage's name in reports, for example {@code dedup}. */
    String name();

    /** Processes the live documents of a batch; drops are written to {@code batch.dropReason}. */
    void process(Batch batch, Workers workers);

    /** Extra figures for the report (for example a language distribution); empty by default. */
    default Map<String, Object> details() {
        return Map.of();
    }

    /** Called once before the first batch of each pass over the source; stages reset their state here. */
    default void start() {
    }

    /**
     * Whether the stage decides only after seeing every document (near-dedup keeps one document per
     * cluster): the run then makes a planning pass over the source through this stage first,
     * between {@link #beginPlanning()} and {@link #endPlanning()}, before the pass that produces output.
     */
    default boolean plans() {
        return false;
    }

    /** Starts a planning pass: the next batches are observed, not filtered. */
    default void beginPlanning() {
    }

    /** Ends the planning pass: the stage now knows what to drop in the output pass. */
    default void endPlanning() {
    }
}
