package org.llmkit.data;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One execution of a {@link Pipeline}: a reader thread fills batches one ahead while the calling thread runs
 * every stage over the current batch (stages fan out to the workers), hands survivors to the sink, counts
 * what each stage let through or dropped and why, and logs progress.
 */
final class PipelineRun {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineRun.class);
    private static final int MAX_PROBLEMS = 100;

    private final Dataset source;
    private final List<Stage> active;
    private final TokenizeStage tokenizer;
    private final int threads;
    private final int batchSize;
    private final boolean skipMalformed;
    private final Duration progressEvery;
    private final Pipeline.DropListener drops;

    PipelineRun(Dataset source, List<Stage> active, TokenizeStage tokenizer, int threads, int batchSize,
            boolean skipMalformed, Duration progressEvery, Pipeline.DropListener drops) {
        this.drops = drops;
        this.source = source;
        this.active = active;
        this.tokenizer = tokenizer;
        this.threads = threads;
        this.batchSize = batchSize;
        this.skipMalformed = skipMalformed;
        this.progressEvery = progressEvery;
    }

    /** One batch as read: the documents, and the records skipped as malformed. */
    private record ReadBatch(List<Document> docs, Map<String, Long> malformed, List<String> problems, boolean end) {
    }

    PipelineReport execute(Sinks.Sink sink) throws IOException {
        long startNanos = System.nanoTime();
        try (sink) {
            for (int s = 0; s < active.size(); s++) {
                if (active.get(s).plans()) {
                    Stage planned = active.get(s);
                    planned.beginPlanning();
                    LOG.info("{}: planning pass for stage {}", source.describe(), planned.name());
                    pass(active.subList(0, s + 1), null);
                    planned.endPlanning();
                }
            }
            PassResult result = pass(active, sink);
            List<StageReport> reports = new ArrayList<>();
            reports.add(result.read().report(Map.of()));
            for (int s = 0; s < active.size(); s++) {
                reports.add(result.counters().get(s).report(active.get(s).details()));
            }
            PipelineReport report = new PipelineReport(source.describe(), reports,
                    tokenizer == null ? List.of() : tokenizer.histogram().bins(), result.outputs(), result.problems(),
                    (System.nanoTime() - startNanos) / 1e9);
            result.progress().done(report);
            return report;
        }
    }

    /** What one pass over the source counted. */
    private record PassResult(Counter read, List<Counter> counters, List<String> problems, Map<String, Object> outputs,
                              Progress progress) {
    }

    /**
     * Reads the whole source through the given stages into the sink; without a sink (a planning
     * pass) the survivors are discarded and nothing is finished.
     */
    private PassResult pass(List<Stage> stages, Sinks.Sink sink) throws IOException {
        for (Stage stage : stages) {
            stage.start();
        }
        Counter read = new Counter("read");
        List<Counter> counters = new ArrayList<>();
        for (Stage stage : stages) {
            counters.add(new Counter(stage.name()));
        }
        List<String> problems = new ArrayList<>();
        Progress progress = new Progress(source.describe(), progressEvery);
        long ordinal = 0;
        Map<String, Object> outputs = Map.of();
        ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "llm-data-reader");
            t.setDaemon(true);
            return t;
        });
        try (DocumentStream in = source.open(); Workers workers = new Workers(threads)) {
            Future<ReadBatch> next = reader.submit(() -> readBatch(in));
            while (true) {
                ReadBatch batchRead = await(next);
                if (!batchRead.end()) {
                    next = reader.submit(() -> readBatch(in));
                }
                read.in += batchRead.docs().size();
                read.out += batchRead.docs().size();
                batchRead.malformed().forEach((reason, n) -> {
                    read.in += n;
                    read.dropped.merge(reason, n, Long::sum);
                });
                for (String p : batchRead.problems()) {
                    if (problems.size() < MAX_PROBLEMS) {
                        problems.add(p);
                    }
                }
                if (!batchRead.docs().isEmpty()) {
                    Batch batch = new Batch(batchRead.docs().toArray(Document[]::new), ordinal);
                    for (int s = 0; s < stages.size(); s++) {
                        runStage(stages.get(s), counters.get(s), batch, workers, sink == null ? null : drops);
                    }
                    if (sink != null) {
                        sink.accept(batch, ordinal);
                    }
                    ordinal += batch.size();
                }
                progress.update(read.in, counters.isEmpty() ? read.out : counters.get(counters.size() - 1).out);
                if (batchRead.end()) {
                    break;
                }
            }
            if (sink != null) {
                outputs = sink.finish();
            }
        } finally {
            reader.shutdownNow();
        }
        return new PassResult(read, counters, problems, outputs, progress);
    }

    private ReadBatch readBatch(DocumentStream in) throws IOException {
        List<Document> docs = new ArrayList<>(batchSize);
        Map<String, Long> malformed = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        while (docs.size() < batchSize) {
            Document doc;
            try {
                doc = in.next();
            } catch (DataFormatException e) {
                if (!skipMalformed || e.line() == 0) {
                    throw e;
                }
                malformed.merge(e.reason(), 1L, Long::sum);
                problems.add(e.getMessage());
                LOG.warn("skipping malformed record: {}", e.getMessage());
                continue;
            }
            if (doc == null) {
                return new ReadBatch(docs, malformed, problems, true);
            }
            docs.add(doc);
        }
        return new ReadBatch(docs, malformed, problems, false);
    }

    private static ReadBatch await(Future<ReadBatch> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IOException(cause);
        }
    }

    private static void runStage(Stage stage, Counter counter, Batch batch, Workers workers,
            Pipeline.DropListener drops) {
        boolean[] wasAlive = new boolean[batch.size()];
        int alive = 0;
        for (int i = 0; i < batch.size(); i++) {
            wasAlive[i] = batch.alive(i);
            alive += wasAlive[i] ? 1 : 0;
        }
        long start = System.nanoTime();
        if (alive > 0) {
            stage.process(batch, workers);
        }
        counter.nanos += System.nanoTime() - start;
        counter.in += alive;
        for (int i = 0; i < batch.size(); i++) {
            if (wasAlive[i]) {
                if (batch.alive(i)) {
                    counter.out++;
                } else {
                    counter.dropped.merge(batch.dropReason[i], 1L, Long::sum);
                    if (drops != null) {
                        drops.dropped(batch.docs[i], stage.name(), batch.dropReason[i]);
                    }
                }
            } else if (batch.alive(i)) {
                throw new IllegalStateException("stage " + stage.name() + " revived a dropped document");
            }
        }
    }

    /** Counts of one stage during a run. */
    private static final class Counter {
        final String name;
        long in;
        long out;
        long nanos;
        final Map<String, Long> dropped = new LinkedHashMap<>();

        Counter(String name) {
            this.name = name;
        }

        StageReport report(Map<String, Object> details) {
            return new StageReport(name, in, out, dropped, nanos / 1e9, details);
        }
    }

}
