package org.llmkit.data;

import org.llmkit.api.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The definition of a {@link Pipeline}, for execution backends other than the in-process one
 * (llm-spark): the source, the stages in order with their report names, the tokenization, packing
 * and split settings, and the building blocks that make a backend count and decide exactly as the
 * in-process run does. Users do not need it; get it with {@link Pipeline#plan()}.
 *
 * <p>How a backend reproduces the in-process run:
 * <ul>
 *   <li>the <em>ordinal</em> of a document is its position among the documents the source yields
 *       (malformed records skipped), in source order;</li>
 *   <li>{@link Kind#DOCUMENT} and {@link Kind#TOKENIZE} steps act on each document alone: run
 *       consecutive ones with a {@link StepRunner} from {@link #runner(int, int)};</li>
 *   <li>{@link Kind#EXACT_DEDUP}: among the live documents with equal {@link #exactDedupKey(String)},
 *       the one with the smallest ordinal is kept, the others are dropped as {@code duplicate};</li>
 *   <li>{@link Kind#NEAR_DEDUP}: among the live documents, link candidates as {@link MinHashLsh}
 *       says; each connected component keeps its smallest ordinal, the others are dropped as
 *       {@code near_duplicate} (see {@link NearDedup});</li>
 *   <li>with a split, document {@code ordinal} goes to training when {@link #isTrain(long)};</li>
 *   <li>packing concatenates the tokens of the surviving documents in ordinal order, each followed
 *       by {@link #separatorId()} unless it is -1, and cuts sequences of {@link #packLength()}.</li>
 * </ul>
 *
 * <p>A plan shares the pipeline's tokenizer and scorers; {@link #closeResources()} closes them, for
 * backends that build a fresh pipeline per task.
 */
public final class PipelinePlan {

    /** What a step does, as far as a backend must know. */
    public enum Kind {
        /** Acts on each document alone: normalize, language, quality, toxicity, filter, map. */
        DOCUMENT,
        /** Exact dedup on normalized text. */
        EXACT_DEDUP,
        /** MinHash-LSH near dedup, one document per cluster. */
        NEAR_DEDUP,
        /** Tokenization; always the last step. */
        TOKENIZE
    }

    /**
     * One step of the plan.
     *
     * @param name the name in reports, for example {@code quality} or {@code filter_2}
     * @param kind what the step does
     * @param nearDedup the settings of a {@link Kind#NEAR_DEDUP} step, else null
     */
    public record Step(String name, Kind kind, NearDedup nearDedup) {
    }

    private final Dataset source;
    private final List<Step> steps;
    private final List<Supplier<Stage>> factories;
    private final Tokenizer tokenizer;
    private final boolean addSpecialTokens;
    private final int packLength;
    private final int separatorId;
    private final boolean skipMalformed;
    private final int batchSize;
    private final Sinks.Splitter splitter;
    private final long shardBytes;
    private final List<Object> resources;

    PipelinePlan(Dataset source, List<Step> steps, List<Supplier<Stage>> factories, Tokenizer tokenizer,
                 boolean addSpecialTokens, int packLength, int separatorId, boolean skipMalformed, int batchSize,
                 Sinks.Splitter splitter, long shardBytes, List<Object> resources) {
        this.source = source;
        this.steps = List.copyOf(steps);
        this.factories = List.copyOf(factories);
        this.tokenizer = tokenizer;
        this.addSpecialTokens = addSpecialTokens;
        this.packLength = packLength;
        this.separatorId = separatorId;
        this.skipMalformed = skipMalformed;
        this.batchSize = batchSize;
        this.splitter = splitter;
        this.shardBytes = shardBytes;
        this.resources = List.copyOf(resources);
    }

    /**
     * Returns the source.
     *
     * @return the dataset; a {@link FileDataset} can be read one file at a time
     */
    public Dataset source() {
        return source;
    }

    /**
     * Returns the steps after reading, in order, tokenization last when present.
     *
     * @return an unmodifiable list
     */
    public List<Step> steps() {
        return steps;
    }

    /**
     * Whether malformed records are counted in stage {@code read} (by {@link DataFormatException#reason()})
     * instead of failing the run; records with line 0 (whole-file problems) fail it anyway.
     *
     * @return true with {@link Pipeline#skipMalformed()}
     */
    public boolean skipMalformed() {
        return skipMalformed;
    }

    /**
     * Returns the number of documents per batch.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Whether the output is split into training and validation.
     *
     * @return true with {@link Pipeline#split(double)}
     */
    public boolean splits() {
        return splitter != null;
    }

    /**
     * Returns the split rule, which can be sent to remote workers.
     *
     * @return the rule; every document goes to training without a split
     */
    public Split split() {
        return splitter == null ? new Split(1, 0) : new Split(splitter.trainFraction(), splitter.seed());
    }

    /** The train/validation split: a document goes by a hash of its ordinal. Immutable, serializable. */
    public static final class Split implements java.io.Serializable {

        private static final long serialVersionUID = 1L;

        /** Share of documents for training, in (0, 1]. */
        private final double trainFraction;
        /** The assignment seed. */
        private final long seed;

        Split(double trainFraction, long seed) {
            this.trainFraction = trainFraction;
            this.seed = seed;
        }

        /**
         * Tells where a document goes.
         *
         * @param ordinal the document's ordinal
         * @return true for training
         */
        public boolean isTrain(long ordinal) {
            return trainFraction >= 1 || new Sinks.Splitter(trainFraction, seed).isTrain(ordinal);
        }
    }

    /**
     * Tells where a document goes when the output is split.
     *
     * @param ordinal the document's ordinal
     * @return true for training (always true without a split)
     */
    public boolean isTrain(long ordinal) {
        return splitter == null || splitter.isTrain(ordinal);
    }

    /**
     * Whether the documents are tokenized (and packed).
     *
     * @return true with {@link Pipeline#tokenize(Tokenizer)}
     */
    public boolean tokenizes() {
        return tokenizer != null;
    }

    /**
     * Returns the tokens per packed sequence.
     *
     * @return the length, or 0 without tokenization
     */
    public int packLength() {
        return packLength;
    }

    /**
     * Returns the token written after each document when packing.
     *
     * @return the id, or -1 for none
     */
    public int separatorId() {
        return separatorId;
    }

    /**
     * Returns the tokenizer's vocabulary size.
     *
     * @return the size, or 0 without tokenization
     */
    public int vocabSize() {
        return tokenizer == null ? 0 : tokenizer.vocabSize();
    }

    /**
     * Returns the largest token shard size.
     *
     * @return bytes
     */
    public long shardBytes() {
        return shardBytes;
    }

    /**
     * Creates a runner for consecutive per-document steps. Each call builds fresh stage instances
     * (language detectors are built here, once per runner).
     *
     * @param from the first step, inclusive
     * @param to the last step, exclusive
     * @return the runner; close it
     * @throws IllegalArgumentException when the range is out of bounds or holds a dedup step
     */
    public StepRunner runner(int from, int to) {
        if (from < 0 || to > steps.size() || from > to) {
            throw new IllegalArgumentException("steps [" + from + ", " + to + ") are not within [0, " + steps.size() + ")");
        }
        List<Stage> stages = new ArrayList<>();
        TokenizeStage tokenize = null;
        for (int s = from; s < to; s++) {
            Step step = steps.get(s);
            switch (step.kind()) {
                case DOCUMENT -> stages.add(factories.get(s).get());
                case TOKENIZE -> {
                    tokenize = new TokenizeStage(tokenizer, addSpecialTokens);
                    stages.add(tokenize);
                }
                default -> throw new IllegalArgumentException("step " + s + " (" + step.name() + ") is " + step.kind()
                        + ", which needs the whole corpus; a runner takes DOCUMENT and TOKENIZE steps only");
            }
        }
        return new StepRunner(from, stages, tokenize);
    }

    /**
     * Returns the key of exact dedup: the 128-bit MurmurHash3 of the normalized text.
     *
     * @param text the document's text
     * @return two longs, high then low
     */
    public static long[] exactDedupKey(String text) {
        return ExactDedupStage.key(text);
    }

    /**
     * Returns the details of a dedup step as the in-process run reports them, less its memory use.
     *
     * @param step the step index
     * @param documents for exact dedup the distinct texts kept; for near dedup the documents that
     *     had a signature (were indexed)
     * @param clusters for near dedup the clusters of two or more documents; ignored for exact dedup
     * @return the details
     * @throws IllegalArgumentException when the step is not a dedup step
     */
    public java.util.Map<String, Object> dedupDetails(int step, long documents, long clusters) {
        Step s = steps.get(step);
        java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
        switch (s.kind()) {
            case EXACT_DEDUP -> details.put("distinct_texts", Math.toIntExact(documents)); // as in-process: an int
            case NEAR_DEDUP -> {
                NearDedup n = s.nearDedup();
                details.put("threshold", n.threshold());
                details.put("permutations", n.permutations());
                details.put("shingle_size", n.shingleSize());
                details.put("bands", n.bands());
                details.put("rows", n.rows());
                details.put("indexed_documents", documents);
                details.put("clusters", clusters);
            }
            default -> throw new IllegalArgumentException("step " + step + " (" + s.name() + ") is not a dedup step");
        }
        return details;
    }

    /**
     * Closes the tokenizer and the scorers that are {@link AutoCloseable}, for backends that build a
     * fresh pipeline per task. Do not call it on a plan whose resources are used elsewhere.
     *
     * @throws Exception when closing one fails (the others are still closed)
     */
    public void closeResources() throws Exception {
        Exception first = null;
        for (Object resource : resources) {
            if (resource instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
