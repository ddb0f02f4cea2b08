package org.llmkit.data;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Locale;

/** Periodic progress lines through SLF4J: documents read and kept, documents per second. */
final class Progress {

    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final String source;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private long lastRead;

    Progress(String source, Duration interval) {
        this.source = source;
        this.intervalNanos = interval.toNanos();
    }

    void update(long read, long kept) {
        long now = System.nanoTime();
        if (now - lastLog >= intervalNanos) {
            double window = (now - lastLog) / 1e9;
            double total = (now - start) / 1e9;
            LOG.info(String.format(Locale.ROOT, "%s: %,d documents read, %,d kept, %,.0f documents/s (%,.0f overall), %.0f s",
                    source, read, kept, (read - lastRead) / window, read / total, total));
            lastLog = now;
            lastRead = read;
        }
    }

    void done(PipelineReport report) {
        LOG.info(String.format(Locale.ROOT, "%s: done, %,d documents in, %,d out, %,d dropped, %.1f s (%,.0f documents/s)",
                source, report.documentsIn(), report.documentsOut(), report.documentsDropped(), report.seconds(),
                report.seconds() > 0 ? report.documentsIn() / report.seconds() : 0));
    }

    double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
