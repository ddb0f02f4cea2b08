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

    /** Called once before the first batch of a run; stages reset their state here. */
    default void start() {
    }
}
