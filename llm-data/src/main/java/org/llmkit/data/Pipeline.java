package org.llmkit.data;

import org.llmkit.api.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A streaming corpus-preprocessing pipeline: a {@link Dataset}, document stages in the order
 * given, optionally tokenization and packing, and an output.
 *
 * <pre>{@code
 * PipelineReport r = Pipeline.from(Dataset.jsonl(Path.of("dump.jsonl.zst")))
 *         .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher())
 *         .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
 *         .tokenize(tokenizer).pack(2048).split(0.95)
 *         .writeTo(Path.of("out"));
 * List<Document> kept = Pipeline.from(Dataset.of(texts)).dedup().collect();
 * }</pre>
 *
 * <p><b>Streaming.</b> Documents are read in batches ({@link #batchSize(int)}, default 1024; the
 * next batch is read while the current one is processed) and each batch goes through every stage
 * before the next; per-document work (normalization, hashing, language identification, quality
 * rules, toxicity, user filters and maps, tokenization) is spread over {@link #threads(int)}
 * threads, while dedup state is updated in source order, so results do not depend on the thread
 * count. Memory is a few batches plus dedup state: about 32-64 bytes per kept document for
 * {@link #dedup()} and about 480 bytes per document reaching {@link #nearDedup(double)} with 128
 * permutations (see {@link NearDedup}, which also explains why near dedup reads the source twice). Progress lines (documents/s) are logged through SLF4J every
 * {@link #progressEvery(Duration)}.
 *
 * <p><b>Nothing is lost silently.</b> Each stage counts documents in, out and dropped by reason in
 * the {@link PipelineReport}: documents in = out + dropped. A malformed record fails the run with
 * its file and line ({@link DataFormatException}), or with {@link #skipMalformed()} is dropped in
 * stage {@code read} as {@code malformed} or {@code missing_field} and listed in
 * {@link PipelineReport#problems()}.
 *
 * <p><b>Outputs</b> of {@link #writeTo(Path)}: without tokenization {@code documents.jsonl} (or
 * {@code train.jsonl} and {@code validation.jsonl} after {@link #split(double)}); with
 * {@link #tokenize(Tokenizer)} and {@link #pack(int)}, token shards in {@code tokens/} (or
 * {@code train/} and {@code validation/}) as described in {@link TokenDataset}; always
 * {@code report.json}, {@code report.md} and, with tokens, {@code token-lengths.png}. Files appear
 * only complete (temporary file and atomic rename; shard indexes last; the report last of all).
 *
 * <p>Immutable: every method returns a new pipeline; settings are checked in the terminal methods
 * ({@link #collect()}, {@link #collectTokens()}, {@link #run(Consumer)}, {@link #writeTo(Path)}).
 * Functions and scorers passed in are called from several threads at once and must be thread-safe.
 */
public final class Pipeline {

    private final Dataset source;
    private final List<StageSpec> stages;
    private final Tokenization tokenization;
    private final Settings settings;

    private record StageSpec(String name, Supplier<Stage> factory, PipelinePlan.Kind kind, NearDedup nearDedup,
                             Object resource) {
    }

    private record Tokenization(Tokenizer tokenizer, boolean addSpecialTokens, int stagesBefore, int packLength,
                                Integer separator) {
    }

    private record Settings(int threads, int batchSize, boolean skipMalformed, Duration progressEvery,
                            double trainFraction, long splitSeed, long shardBytes) {
    }

    private Pipeline(Dataset source, List<StageSpec> stages, Tokenization tokenization, Settings settings) {
        this.source = source;
        this.stages = List.copyOf(stages);
        this.tokenization = tokenization;
        this.settings = settings;
    }

    /**
     * Starts a pipeline.
     *
     * @param dataset the source
     * @return a pipeline without stages
     */
    public static Pipeline from(Dataset dataset) {
        Objects.requireNonNull(dataset, "dataset must not be null");
        return new Pipeline(dataset, List.of(), null, new Settings(Runtime.getRuntime().availableProcessors(), 1024,
                false, Duration.ofSeconds(10), 1.0, 0L, TokenShardWriter.DEFAULT_SHARD_BYTES));
    }

    private Pipeline with(String name, Supplier<Stage> factory) {
        return with(new StageSpec(name, factory, PipelinePlan.Kind.DOCUMENT, null, null));
    }

    private Pipeline with(StageSpec spec) {
        List<StageSpec> list = new ArrayList<>(stages);
        list.add(spec);
        return new Pipeline(source, list, tokenization, settings);
    }

    private Pipeline with(Settings newSettings) {
        return new Pipeline(source, stages, tokenization, newSettings);
    }

    /**
     * Adds Unicode NFC normalization and whitespace clean-up (line endings, runs of spaces, blank
     * lines, control characters, trimming); documents left empty are dropped as {@code empty}.
     *
     * @return the new pipeline
     */
    public Pipeline normalize() {
        return with("normalize", NormalizeStage::new);
    }

    /**
     * Adds exact deduplication on normalized text: later copies are dropped as {@code duplicate}.
     *
     * @return the new pipeline
     */
    public Pipeline dedup() {
        return with(new StageSpec("dedup", ExactDedupStage::new, PipelinePlan.Kind.EXACT_DEDUP, null, null));
    }

    /**
     * Adds near-duplicate removal with the default MinHash-LSH settings for a threshold: each
     * cluster of near-duplicates keeps its earliest document (see {@link NearDedup}).
     *
     * @param threshold Jaccard similarity of 5-word shingle sets at or above which two documents
     *     are linked into one cluster, in (0, 1]
     * @return the new pipeline
     */
    public Pipeline nearDedup(double threshold) {
        return nearDedup(NearDedup.of(threshold));
    }

    /**
     * Adds near-duplicate removal: each cluster of near-duplicates (a connected component of linked
     * documents, see {@link NearDedup}) keeps its earliest document; the others are dropped as
     * {@code near_duplicate}.
     *
     * <p>Clusters are only known after the last document, so a run reads the source once more per
     * near-dedup stage: a planning pass through the stages up to this one (they must be
     * deterministic, as the built-in ones are), then the pass that produces the output. The earlier
     * stages' work is done twice; put cheap stages ({@link #normalize()}, {@link #dedup()}) before
     * near dedup and expensive ones (language, toxicity) after it.
     *
     * @param settings the MinHash-LSH settings
     * @return the new pipeline
     */
    public Pipeline nearDedup(NearDedup settings) {
        Objects.requireNonNull(settings, "settings must not be null");
        return with(new StageSpec("near_dedup", () -> new NearDedupStage(settings), PipelinePlan.Kind.NEAR_DEDUP, settings,
                null));
    }

    /**
     * Adds language identification keeping the given languages.
     *
     * @param keep ISO 639-1 codes, for example {@code "en"}
     * @return the new pipeline
     * @throws IllegalArgumentException when a code is unknown
     */
    public Pipeline language(String... keep) {
        return language(LanguageFilter.keep(keep));
    }

    /**
     * Adds language identification.
     *
     * @param filter the languages to keep and to tell apart
     * @return the new pipeline
     */
    public Pipeline language(LanguageFilter filter) {
        Objects.requireNonNull(filter, "filter must not be null");
        return with("language", () -> new LanguageStage(filter));
    }

    /**
     * Adds heuristic quality rules; a document failing one is dropped with the rule's name.
     *
     * @param rules the rules, for example {@link QualityRules#gopher()}
     * @return the new pipeline
     */
    public Pipeline quality(QualityRules rules) {
        Objects.requireNonNull(rules, "rules must not be null");
        return with("quality", () -> new QualityStage(rules));
    }

    /**
     * Adds a toxicity filter: documents scoring above the threshold are dropped as {@code toxic}.
     *
     * @param scorer the scorer; thread-safe
     * @param threshold in [0, 1]
     * @return the new pipeline
     */
    public Pipeline toxicity(ToxicityScorer scorer, double threshold) {
        Objects.requireNonNull(scorer, "scorer must not be null");
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("toxicity threshold must be in [0, 1], was " + threshold);
        }
        return with(new StageSpec("toxicity", () -> new ToxicityStage(scorer, threshold), PipelinePlan.Kind.DOCUMENT, null,
                scorer));
    }

    /**
     * Adds a filter; rejected documents are dropped as {@code filtered}.
     *
     * @param keep true for documents to keep; thread-safe
     * @return the new pipeline
     */
    public Pipeline filter(Predicate<Document> keep) {
        return filter("filter", keep);
    }

    /**
     * Adds a named filter: the stage and the drop reason carry the name.
     *
     * @param name the stage name and drop reason, for example {@code too_long}
     * @param keep true for documents to keep; thread-safe
     * @return the new pipeline
     */
    public Pipeline filter(String name, Predicate<Document> keep) {
        Objects.requireNonNull(name, "name must not be null");
        Objects.requireNonNull(keep, "keep must not be null");
        String reason = name.equals("filter") ? "filtered" : name;
        return with(name, () -> UserStages.filter(name, reason, keep));
    }

    /**
     * Adds a transformation of every document.
     *
     * @param function returns the new document, never null; thread-safe
     * @return the new pipeline
     */
    public Pipeline map(Function<Document, Document> function) {
        Objects.requireNonNull(function, "function must not be null");
        return with("map", () -> UserStages.map("map", function));
    }

    /**
     * Adds tokenization without special tokens. Must follow every document stage.
     *
     * @param tokenizer the tokenizer; thread-safe, not closed by the pipeline
     * @return the new pipeline
     */
    public Pipeline tokenize(Tokenizer tokenizer) {
        return tokenize(tokenizer, false);
    }

    /**
     * Adds tokenization. Must follow every document stage.
     *
     * @param tokenizer the tokenizer; not closed by the pipeline
     * @param addSpecialTokens whether to add the tokenizer's special tokens (for example BOS) to
     *     each document
     * @return the new pipeline
     */
    public Pipeline tokenize(Tokenizer tokenizer, boolean addSpecialTokens) {
        Objects.requireNonNull(tokenizer, "tokenizer must not be null");
        return new Pipeline(source, stages, new Tokenization(tokenizer, addSpecialTokens, stages.size(), 0, null), settings);
    }

    /**
     * Packs tokens into sequences of exactly {@code sequenceLength} tokens, with the tokenizer's
     * EOS token after each document; documents may span sequences, and the last tokens that do not
     * fill a sequence are not written (the report gives their number).
     *
     * @param sequenceLength tokens per sequence, at least 2
     * @return the new pipeline
     */
    public Pipeline pack(int sequenceLength) {
        return pack(sequenceLength, -2);
    }

    /**
     * Packs tokens with an explicit separator.
     *
     * @param sequenceLength tokens per sequence, at least 2
     * @param separatorId the id written after each document, or -1 for none
     * @return the new pipeline
     */
    public Pipeline pack(int sequenceLength, int separatorId) {
        Tokenization t = tokenization == null
                ? new Tokenization(null, false, stages.size(), sequenceLength, separatorId)
                : new Tokenization(tokenization.tokenizer(), tokenization.addSpecialTokens(), tokenization.stagesBefore(),
                        sequenceLength, separatorId);
        return new Pipeline(source, stages, t, settings);
    }

    /**
     * Splits the output into training and validation documents, each document assigned by a hash
     * of its position in the stream with seed 0, so no document is in both.
     *
     * @param trainFraction share of documents for training, in (0, 1)
     * @return the new pipeline
     */
    public Pipeline split(double trainFraction) {
        return split(trainFraction, 0);
    }

    /**
     * Splits the output into training and validation documents.
     *
     * @param trainFraction share of documents for training, in (0, 1)
     * @param seed the assignment seed
     * @return the new pipeline
     */
    public Pipeline split(double trainFraction, long seed) {
        Settings s = settings;
        return with(new Settings(s.threads(), s.batchSize(), s.skipMalformed(), s.progressEvery(), trainFraction, seed,
                s.shardBytes()));
    }

    /**
     * Drops malformed records (counted in stage {@code read}) instead of failing the run.
     *
     * @return the new pipeline
     */
    public Pipeline skipMalformed() {
        Settings s = settings;
        return with(new Settings(s.threads(), s.batchSize(), true, s.progressEvery(), s.trainFraction(), s.splitSeed(),
                s.shardBytes()));
    }

    /**
     * Sets the number of worker threads (default: the number of processors).
     *
     * @param count in [1, 1024]
     * @return the new pipeline
     */
    public Pipeline threads(int count) {
        Settings s = settings;
        return with(new Settings(count, s.batchSize(), s.skipMalformed(), s.progressEvery(), s.trainFraction(),
                s.splitSeed(), s.shardBytes()));
    }

    /**
     * Sets the number of documents per batch (default 1024).
     *
     * @param size in [1, 1,000,000]
     * @return the new pipeline
     */
    public Pipeline batchSize(int size) {
        Settings s = settings;
        return with(new Settings(s.threads(), size, s.skipMalformed(), s.progressEvery(), s.trainFraction(),
                s.splitSeed(), s.shardBytes()));
    }

    /**
     * Sets how often progress is logged (default every 10 seconds).
     *
     * @param interval at least 1 ms
     * @return the new pipeline
     */
    public Pipeline progressEvery(Duration interval) {
        Settings s = settings;
        return with(new Settings(s.threads(), s.batchSize(), s.skipMalformed(), interval, s.trainFraction(),
                s.splitSeed(), s.shardBytes()));
    }

    /**
     * Sets the largest token shard size (default 256 MiB).
     *
     * @param bytes from one sequence up to 2 GiB - 1
     * @return the new pipeline
     */
    public Pipeline shardBytes(long bytes) {
        Settings s = settings;
        return with(new Settings(s.threads(), s.batchSize(), s.skipMalformed(), s.progressEvery(), s.trainFraction(),
                s.splitSeed(), bytes));
    }

    /**
     * Runs the pipeline and returns the documents that survive every stage, in source order.
     *
     * @return the documents
     * @throws IOException when the source cannot be read, or a malformed record fails the run
     * @throws IllegalStateException when the pipeline tokenizes (use {@link #collectTokens()})
     */
    public List<Document> collect() throws IOException {
        if (tokenization != null) {
            throw new IllegalStateException("collect() returns documents, but this pipeline tokenizes; use collectTokens() "
                    + "or writeTo(folder)");
        }
        List<Document> out = new ArrayList<>();
        run(out::add);
        return out;
    }

    /**
     * Runs the pipeline and hands each surviving document to a consumer (on the calling thread,
     * in source order).
     *
     * @param consumer receives the documents
     * @return the report
     * @throws IOException when the source cannot be read, or a malformed record fails the run
     */
    public PipelineReport run(Consumer<Document> consumer) throws IOException {
        Objects.requireNonNull(consumer, "consumer must not be null");
        if (tokenization != null) {
            throw new IllegalStateException("run(consumer) hands out documents, but this pipeline tokenizes; use "
                    + "collectTokens() or writeTo(folder)");
        }
        validate();
        if (settings.trainFraction() < 1) {
            throw new IllegalStateException("split(...) needs an output folder: use writeTo(folder)");
        }
        return execute(Sinks.consumer(consumer));
    }

    /**
     * Runs the pipeline like {@link #run(Consumer)} and also reports every document a stage drops, with the
     * stage and the reason (the same reason the report counts), so that an application can audit or keep them.
     * Records the reader skips as malformed are counted in the report only (they never became documents).
     *
     * <pre>{@code
     * pipeline.run(kept::add, (doc, stage, reason) -> rejected.add(doc.id() + " " + stage + ":" + reason));
     * }</pre>
     *
     * @param kept receives the surviving documents (calling thread, source order)
     * @param dropped receives each dropped document (calling thread, source order within a batch)
     * @return the report
     * @throws IOException when the source cannot be read, or a malformed record fails the run
     */
    public PipelineReport run(Consumer<Document> kept, DropListener dropped) throws IOException {
        Objects.requireNonNull(kept, "kept must not be null");
        Objects.requireNonNull(dropped, "dropped must not be null");
        if (tokenization != null) {
            throw new IllegalStateException("run(kept, dropped) hands out documents, but this pipeline tokenizes; use "
                    + "collectTokens() or writeTo(folder)");
        }
        validate();
        if (settings.trainFraction() < 1) {
            throw new IllegalStateException("split(...) needs an output folder: use writeTo(folder)");
        }
        return execute(Sinks.consumer(kept), dropped);
    }

    /** Receives the documents a stage drops. */
    @FunctionalInterface
    public interface DropListener {
        /**
         * Called once per dropped document.
         *
         * @param document the document as the stage saw it
         * @param stage the stage's name as in the report (e.g. {@code dedup}, {@code quality})
         * @param reason the drop reason as counted in the report (e.g. {@code duplicate})
         */
        void dropped(Document document, String stage, String reason);
    }

    /**
     * Runs a tokenizing, packing pipeline and returns the sequences in memory.
     *
     * @return the packed sequences
     * @throws IOException when the source cannot be read, or a malformed record fails the run
     * @throws IllegalStateException without {@link #tokenize(Tokenizer)} and {@link #pack(int)},
     *     or with {@link #split(double)} (split the result with {@link TokenDataset#split})
     */
    public TokenDataset collectTokens() throws IOException {
        validate();
        if (tokenization == null || tokenization.tokenizer() == null || tokenization.packLength() == 0) {
            throw new IllegalStateException("collectTokens() needs tokenize(tokenizer) and pack(sequenceLength)");
        }
        if (settings.trainFraction() < 1) {
            throw new IllegalStateException("collectTokens() returns one dataset; drop split(...) and use "
                    + "TokenDataset.split(fraction, seed), or writeTo(folder)");
        }
        Sinks.TokenSink sink = Sinks.TokenSink.toMemory(tokenization.packLength(), separator());
        execute(sink);
        if (sink.sequences().isEmpty()) {
            throw new IllegalStateException("no complete sequence of " + tokenization.packLength()
                    + " tokens: the corpus is too small for this sequence length");
        }
        return TokenDataset.of(sink.sequences().toArray(int[][]::new), tokenization.tokenizer().vocabSize());
    }

    /**
     * Runs the pipeline and writes its outputs and report into a folder (see the class description).
     *
     * @param folder the output folder; created if absent
     * @return the report, also written as {@code report.json} and {@code report.md}
     * @throws IOException when the source cannot be read, writing fails, or a malformed record fails the run
     * @throws IllegalStateException when the settings do not fit together (named in the message)
     */
    public PipelineReport writeTo(Path folder) throws IOException {
        Objects.requireNonNull(folder, "folder must not be null");
        validate();
        Sinks.requireFolder(folder);
        Sinks.Splitter splitter = settings.trainFraction() < 1
                ? new Sinks.Splitter(settings.trainFraction(), settings.splitSeed()) : null;
        Sinks.Sink sink;
        if (tokenization == null) {
            sink = new Sinks.JsonlSink(folder, splitter);
        } else {
            if (tokenization.packLength() == 0) {
                throw new IllegalStateException("token shards hold fixed-length sequences: add pack(sequenceLength) "
                        + "after tokenize(tokenizer)");
            }
            sink = Sinks.TokenSink.toShards(folder, tokenization.packLength(), separator(),
                    tokenization.tokenizer().vocabSize(), settings.shardBytes(), splitter);
        }
        PipelineReport report = execute(sink);
        report.writeTo(folder);
        return report;
    }

    /**
     * Returns the definition of this pipeline for execution backends other than the in-process one
     * (llm-spark); users do not need it. The settings are checked as {@link #writeTo(Path)} checks them.
     *
     * @return the plan
     * @throws IllegalStateException when the settings do not fit together (named in the message)
     */
    public PipelinePlan plan() {
        validate();
        if (tokenization != null && tokenization.packLength() == 0) {
            throw new IllegalStateException("token shards hold fixed-length sequences: add pack(sequenceLength) "
                    + "after tokenize(tokenizer)");
        }
        List<PipelinePlan.Step> steps = new ArrayList<>();
        List<Supplier<Stage>> factories = new ArrayList<>();
        List<Object> resources = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        for (StageSpec spec : stages) {
            int n = names.merge(spec.name(), 1, Integer::sum);
            String name = n == 1 ? spec.name() : spec.name() + "_" + n;
            steps.add(new PipelinePlan.Step(name, spec.kind(), spec.nearDedup()));
            factories.add(n == 1 ? spec.factory() : () -> renamed(spec.factory().get(), name));
            if (spec.resource() != null) {
                resources.add(spec.resource());
            }
        }
        if (tokenization != null) {
            steps.add(new PipelinePlan.Step("tokenize", PipelinePlan.Kind.TOKENIZE, null));
            resources.add(tokenization.tokenizer());
        }
        return new PipelinePlan(source, steps, factories, tokenization == null ? null : tokenization.tokenizer(),
                tokenization != null && tokenization.addSpecialTokens(), tokenization == null ? 0 : tokenization.packLength(),
                tokenization == null ? -1 : separator(), settings.skipMalformed(), settings.batchSize(),
                settings.trainFraction() < 1 ? new Sinks.Splitter(settings.trainFraction(), settings.splitSeed()) : null,
                settings.shardBytes(), resources);
    }

    private int separator() {
        int separator = tokenization.separator();
        if (separator != -2) {
            return separator;
        }
        return tokenization.tokenizer().eosTokenId().orElseThrow(() -> new IllegalStateException(
                "pack(sequenceLength) separates documents with the tokenizer's EOS token, but tokenizer "
                        + tokenization.tokenizer().source() + " has none; use pack(sequenceLength, separatorId)"));
    }

    private void validate() {
        Settings s = settings;
        if (s.threads() < 1 || s.threads() > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], was " + s.threads());
        }
        if (s.batchSize() < 1 || s.batchSize() > 1_000_000) {
            throw new IllegalArgumentException("batchSize must be in [1, 1000000], was " + s.batchSize());
        }
        if (s.progressEvery() == null || s.progressEvery().toMillis() < 1) {
            throw new IllegalArgumentException("progressEvery must be at least 1 ms, was " + s.progressEvery());
        }
        if (!(s.trainFraction() > 0 && s.trainFraction() <= 1) || s.trainFraction() == 1 && s.splitSeed() != 0) {
            throw new IllegalArgumentException("split trainFraction must be in (0, 1), was " + s.trainFraction());
        }
        if (tokenization != null) {
            if (tokenization.tokenizer() == null) {
                throw new IllegalStateException("pack(sequenceLength) needs tokenize(tokenizer) before it");
            }
            if (tokenization.stagesBefore() != stages.size()) {
                throw new IllegalStateException("stage " + stages.get(tokenization.stagesBefore()).name()
                        + "(...) comes after tokenize(...); document stages must come before tokenize");
            }
            if (tokenization.packLength() != 0 && tokenization.packLength() < 2) {
                throw new IllegalArgumentException("pack sequenceLength must be at least 2, was " + tokenization.packLength());
            }
            Integer sep = tokenization.separator();
            if (sep != null && sep != -2 && (sep < -1 || sep >= tokenization.tokenizer().vocabSize())) {
                throw new IllegalArgumentException("pack separatorId must be -1 or in [0, "
                        + tokenization.tokenizer().vocabSize() + "), was " + sep);
            }
        }
    }

    private PipelineReport execute(Sinks.Sink sink) throws IOException {
        return execute(sink, null);
    }

    private PipelineReport execute(Sinks.Sink sink, DropListener drops) throws IOException {
        List<Stage> active = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        for (StageSpec spec : stages) {
            Stage stage = spec.factory().get();
            int n = names.merge(stage.name(), 1, Integer::sum);
            active.add(n == 1 ? stage : renamed(stage, stage.name() + "_" + n));
        }
        TokenizeStage tokenizer = tokenization == null ? null
                : new TokenizeStage(tokenization.tokenizer(), tokenization.addSpecialTokens());
        if (tokenizer != null) {
            active.add(tokenizer);
        }
        return new PipelineRun(source, active, tokenizer, settings.threads(), settings.batchSize(),
                settings.skipMalformed(), settings.progressEvery(), drops).execute(sink);
    }

    private static Stage renamed(Stage stage, String name) {
        return new Stage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void process(Batch batch, Workers workers) {
                stage.process(batch, workers);
            }

            @Override
            public Map<String, Object> details() {
                return stage.details();
            }

            @Override
            public void start() {
                stage.start();
            }

            @Override
            public boolean plans() {
                return stage.plans();
            }

            @Override
            public void beginPlanning() {
                stage.beginPlanning();
            }

            @Override
            public void endPlanning() {
                stage.endPlanning();
            }
        };
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        stages.forEach(s -> names.add(s.name()));
        if (tokenization != null) {
            names.add("tokenize");
        }
        return "Pipeline[" + source.describe() + " -> " + String.join(" -> ", names) + "]";
    }
}
