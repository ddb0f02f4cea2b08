package org.llmkit.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;
import org.llmkit.api.ContinuousBatch;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.BatchDecoder;
import org.llmkit.api.generate.GenerationResult;
import org.llmkit.api.io.AtomicFiles;
import org.llmkit.data.Dataset;
import org.llmkit.data.Document;
import org.llmkit.data.Pipeline;
import org.llmkit.data.TokenDataset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Self-improvement rounds: the model generates candidate training data from seed prompts, a filter (an llm-data
 * {@link Pipeline} plus an optional {@link SampleScorer}) drops the bad samples, and the model is fine-tuned on the
 * rest mixed with real data; an evaluation between rounds decides whether to go on.
 *
 * <pre>{@code
 * SelfImprovementReport r = SelfImprovement.of(model)
 *         .template("{a}+{b}=", Map.of("a", digits, "b", digits), 100, 1)   // or .prompts(list)
 *         .samplesPerPrompt(8).sampling(g -> g.maxNewTokens(4).temperature(1.0))
 *         .filter(p -> p.normalize().dedup())                              // dedup within the round and vs real data
 *         .scorer((prompt, response) -> checker.isRight(prompt, response) ? 1 : 0, 1)
 *         .realData(corpus).maxSyntheticShare(0.5)                        // guard against collapse
 *         .heldOut(realHeldOut)                                           // or .evaluate("accuracy", m -> ..., true)
 *         .fineTune(ft -> ft.learningRate(1e-3).epochs(2).batchSize(8))
 *         .rounds(3).patience(1).outputDir(Path.of("self-improve"))
 *         .run();
 * }</pre>
 *
 * <p>Generation goes through {@link ContinuousBatch}, the batcher the server uses: all samples of a round are
 * decoded together, each with its own seed. Each round writes {@code round-N/generated.jsonl} (every sample),
 * {@code kept.jsonl}, {@code dropped.jsonl} (with the reason: {@code stage:reason} from the filter pipeline, or
 * {@code score}), {@code training.jsonl} (the mix actually trained on) and {@code round.json}; the folder gets a
 * {@code report.json}. Generated = kept + dropped, always.
 *
 * <p>Guards: the share of synthetic documents in a round's training mix is capped ({@link #maxSyntheticShare},
 * default 0.5, which needs {@link #realData}); the evaluation set is fixed for all rounds; a round whose filter
 * drops every sample stops the loop with an {@link IllegalStateException} before any fine-tuning on nothing.
 * Early stop: after {@link #patience} rounds without improvement of the metric.
 */
public final class SelfImprovement {
    private static final Logger LOG = LoggerFactory.getLogger(SelfImprovement.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper LINES = new ObjectMapper();

    private final LanguageModel model;
    private List<String> prompts = List.of();
    private int samplesPerPrompt = 4;
    private UnaryOperator<Generation> sampling = g -> g.maxNewTokens(64).temperature(0.8).topP(0.95);
    private UnaryOperator<Pipeline> filter = p -> p.normalize().dedup();
    private SampleScorer scorer;
    private double minScore;
    private BiFunction<String, String, String> format = (prompt, response) -> prompt + response;
    private List<String> realData = List.of();
    private double maxSyntheticShare = 0.5;
    private List<String> heldOut = List.of();
    private String metricName;
    private ToDoubleFunction<LanguageModel> metric;
    private boolean higherIsBetter;
    private UnaryOperator<FineTuner> fineTune = ft -> ft.learningRate(1e-4).epochs(1).batchSize(8);
    private int sequenceLength = 64;
    private int rounds = 2;
    private int patience = 1;
    private double minImprovement;
    private int concurrency = 16;
    private long seed = 1;
    private Path outputDir;

    private SelfImprovement(LanguageModel model) {
        this.model = model;
    }

    /**
     * @param model the model to improve, with a tokenizer; it is fine-tuned in place
     * @return a loop with defaults: 4 samples per prompt, temperature 0.8 / top-p 0.95 / 64 new tokens, filter
     *     {@code normalize().dedup()}, no scorer, synthetic share ≤ 0.5, 2 rounds, patience 1
     */
    public static SelfImprovement of(LanguageModel model) {
        return new SelfImprovement(Objects.requireNonNull(model, "model"));
    }

    /**
     * @param seeds the seed prompts (each sampled {@link #samplesPerPrompt} times per round)
     * @return this
     */
    public SelfImprovement prompts(List<String> seeds) {
        this.prompts = List.copyOf(seeds);
        return this;
    }

    /**
     * Makes {@code count} prompts from a template: each {@code {name}} is replaced by a value drawn (seeded,
     * uniformly) from {@code variables.get(name)}.
     *
     * @param template text with {@code {name}} placeholders
     * @param variables values per placeholder name
     * @param count prompts to make; &gt; 0
     * @param seed the draw's seed
     * @return this
     */
    public SelfImprovement template(String template, Map<String, List<String>> variables, int count, long seed) {
        Objects.requireNonNull(template, "template");
        if (count <= 0) {
            throw new IllegalArgumentException("template count must be > 0 but is " + count);
        }
        Random r = new Random(seed);
        List<String> names = new ArrayList<>(new TreeMap<>(variables).keySet());
        for (String n : names) {
            if (!template.contains("{" + n + "}")) {
                throw new IllegalArgumentException("template has no {" + n + "} placeholder: " + template);
            }
            if (variables.get(n).isEmpty()) {
                throw new IllegalArgumentException("template variable " + n + " has no values");
            }
        }
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String p = template;
            for (String n : names) {
                List<String> values = variables.get(n);
                p = p.replace("{" + n + "}", values.get(r.nextInt(values.size())));
            }
            out.add(p);
        }
        this.prompts = List.copyOf(out);
        return this;
    }

    /**
     * @param n samples generated per prompt and round; &gt; 0
     * @return this
     */
    public SelfImprovement samplesPerPrompt(int n) {
        samplesPerPrompt = n;
        return this;
    }

    /**
     * @param settings configures each sample's generation (limits, temperature, stops); the seed is set per
     *     sample afterwards
     * @return this
     */
    public SelfImprovement sampling(UnaryOperator<Generation> settings) {
        sampling = Objects.requireNonNull(settings, "sampling");
        return this;
    }

    /**
     * @param stages the filter's stages, applied to the round's samples after the real data (so that dedup stages
     *     also drop samples that duplicate real documents); documents carry {@code prompt} and {@code response}
     *     metadata (real documents have none); the text is the formatted training text
     * @return this
     */
    public SelfImprovement filter(UnaryOperator<Pipeline> stages) {
        filter = Objects.requireNonNull(stages, "filter");
        return this;
    }

    /**
     * @param scorer scores samples that passed the filter
     * @param threshold samples scoring below it (or NaN) are dropped with reason {@code score}
     * @return this
     */
    public SelfImprovement scorer(SampleScorer scorer, double threshold) {
        this.scorer = Objects.requireNonNull(scorer, "scorer");
        this.minScore = threshold;
        return this;
    }

    /**
     * @param format the training text of a sample from its prompt and response (default: prompt + response)
     * @return this
     */
    public SelfImprovement format(BiFunction<String, String, String> format) {
        this.format = Objects.requireNonNull(format, "format");
        return this;
    }

    /**
     * @param texts real documents: mixed into every round's training data and used to dedup samples against
     * @return this
     */
    public SelfImprovement realData(List<String> texts) {
        realData = List.copyOf(texts);
        return this;
    }

    /**
     * @param share the largest share of synthetic documents in a round's training mix, in (0, 1]; 1 allows
     *     synthetic-only training
     * @return this
     */
    public SelfImprovement maxSyntheticShare(double share) {
        maxSyntheticShare = share;
        return this;
    }

    /**
     * @param texts fixed real held-out texts; the default metric is their token-weighted loss (lower is better)
     * @return this
     */
    public SelfImprovement heldOut(List<String> texts) {
        heldOut = List.copyOf(texts);
        return this;
    }

    /**
     * Replaces the held-out loss by another evaluation (e.g. an llm-eval task's accuracy).
     *
     * @param name the metric's name in the report
     * @param evaluation computes the metric of the model
     * @param higherIsBetter whether larger values are better
     * @return this
     */
    public SelfImprovement evaluate(String name, ToDoubleFunction<LanguageModel> evaluation, boolean higherIsBetter) {
        this.metricName = Objects.requireNonNull(name, "name");
        this.metric = Objects.requireNonNull(evaluation, "evaluation");
        this.higherIsBetter = higherIsBetter;
        return this;
    }

    /**
     * @param configure sets up each round's {@link FineTuner} (learning rate, epochs, LoRA ...)
     * @return this
     */
    public SelfImprovement fineTune(UnaryOperator<FineTuner> configure) {
        fineTune = Objects.requireNonNull(configure, "fineTune");
        return this;
    }

    /**
     * @param tokens length of the packed training sequences (documents joined by EOS); ≥ 2
     * @return this
     */
    public SelfImprovement sequenceLength(int tokens) {
        sequenceLength = tokens;
        return this;
    }

    /**
     * @param n rounds at most; &gt; 0
     * @return this
     */
    public SelfImprovement rounds(int n) {
        rounds = n;
        return this;
    }

    /**
     * @param n rounds without improvement before stopping early; &gt; 0
     * @return this
     */
    public SelfImprovement patience(int n) {
        patience = n;
        return this;
    }

    /**
     * @param delta the least change of the metric that counts as an improvement; ≥ 0
     * @return this
     */
    public SelfImprovement minImprovement(double delta) {
        minImprovement = delta;
        return this;
    }

    /**
     * @param sequences samples decoded together by the continuous batcher; &gt; 0
     * @return this
     */
    public SelfImprovement concurrency(int sequences) {
        concurrency = sequences;
        return this;
    }

    /**
     * @param seed seeds sampling, the synthetic-share subsampling and the mix order
     * @return this
     */
    public SelfImprovement seed(long seed) {
        this.seed = seed;
        return this;
    }

    /**
     * @param dir where the rounds' files and the report go; created if absent
     * @return this
     */
    public SelfImprovement outputDir(Path dir) {
        outputDir = Objects.requireNonNull(dir, "outputDir");
        return this;
    }

    /**
     * Runs the rounds.
     *
     * @return what each round did and the metric along the way
     * @throws IOException when writing the audit files fails
     * @throws IllegalArgumentException when an option is out of range (named in the message)
     * @throws IllegalStateException when a round's filter drops every sample
     */
    public SelfImprovementReport run() throws IOException {
        validate();
        Files.createDirectories(outputDir);
        String name = metricName != null ? metricName : "held_out_loss";
        boolean higher = metricName != null && higherIsBetter;
        double baseline = evaluate();
        LOG.info("self-improvement: {} before round 1 = {}", name, baseline);
        double best = baseline;
        int flat = 0;
        List<SelfImprovementRound> done = new ArrayList<>();
        String stop = "completed";
        for (int r = 1; r <= rounds; r++) {
            double before = done.isEmpty() ? baseline : done.get(done.size() - 1).metricAfter();
            SelfImprovementRound round = runRound(r, before);
            done.add(round);
            double after = round.metricAfter();
            LOG.info("self-improvement round {}: generated {}, kept {}, dropped {}; {} {} -> {}", r, round.generated(),
                    round.kept(), round.dropped(), name, before, after);
            boolean improved = higher ? after > best + minImprovement : after < best - minImprovement;
            if (improved) {
                best = after;
                flat = 0;
            } else if (++flat >= patience && r < rounds) {
                stop = name + " did not improve for " + flat + " round(s)";
                break;
            }
        }
        SelfImprovementReport report = new SelfImprovementReport(name, higher, baseline, done,
                !stop.equals("completed"), stop);
        AtomicFiles.writeString(outputDir.resolve("report.json"), JSON.writeValueAsString(reportJson(report)));
        return report;
    }

    private void validate() {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts: give prompts(list) or template(...) with count > 0");
        }
        if (rounds <= 0) {
            throw new IllegalArgumentException("rounds must be > 0 but is " + rounds);
        }
        if (samplesPerPrompt <= 0) {
            throw new IllegalArgumentException("samplesPerPrompt must be > 0 but is " + samplesPerPrompt);
        }
        if (patience <= 0) {
            throw new IllegalArgumentException("patience must be > 0 but is " + patience);
        }
        if (concurrency <= 0) {
            throw new IllegalArgumentException("concurrency must be > 0 but is " + concurrency);
        }
        if (sequenceLength < 2 || sequenceLength > model.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequenceLength must be in [2, " + model.config().maxPositionEmbeddings()
                    + "] but is " + sequenceLength);
        }
        if (!(minImprovement >= 0)) {
            throw new IllegalArgumentException("minImprovement must be >= 0 but is " + minImprovement);
        }
        if (!(maxSyntheticShare > 0 && maxSyntheticShare <= 1)) {
            throw new IllegalArgumentException("maxSyntheticShare must be in (0, 1] but is " + maxSyntheticShare);
        }
        if (maxSyntheticShare < 1 && realData.isEmpty()) {
            throw new IllegalArgumentException("maxSyntheticShare " + maxSyntheticShare + " caps synthetic data against"
                    + " real data, but realData(...) is empty; give real data or set maxSyntheticShare(1.0)");
        }
        if (metric == null && heldOut.isEmpty()) {
            throw new IllegalArgumentException("no evaluation: give heldOut(texts) or evaluate(name, metric, higher)");
        }
        if (outputDir == null) {
            throw new IllegalArgumentException("outputDir(dir) is required: every round's samples are written there");
        }
        if (!model.hasTokenizer()) {
            throw new IllegalStateException("self-improvement needs a model with a tokenizer (" + model.source() + ")");
        }
    }

    private SelfImprovementRound runRound(int r, double before) throws IOException {
        Path dir = outputDir.resolve("round-" + r);
        Files.createDirectories(dir);
        List<Sample> samples = generate(r);
        writeLines(dir.resolve("generated.jsonl"), samples.stream().map(s -> s.json(null, null)).toList());

        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < realData.size(); i++) {
            docs.add(Document.of("real-" + i, realData.get(i)));
        }
        Map<String, Sample> byId = new LinkedHashMap<>();
        for (Sample s : samples) {
            byId.put(s.id, s);
            docs.add(Document.of(s.id, format.apply(s.prompt, s.response),
                    Map.of("prompt", s.prompt, "response", s.response)));
        }
        List<Sample> passed = new ArrayList<>();
        Map<String, String> reasons = new HashMap<>();
        filter.apply(Pipeline.from(Dataset.ofDocuments(docs))).run(d -> {
            Sample s = byId.get(d.id());
            if (s != null) {
                passed.add(s.withText(d.text()));
            }
        }, (d, stage, reason) -> {
            if (byId.containsKey(d.id())) {
                reasons.put(d.id(), stage + ":" + reason);
            }
        });
        List<Sample> kept = new ArrayList<>();
        Map<String, Double> scores = new HashMap<>();
        for (Sample s : passed) {
            if (scorer == null) {
                kept.add(s);
                continue;
            }
            double score = scorer.score(s.prompt, s.response);
            scores.put(s.id, score);
            if (score >= minScore) {
                kept.add(s);
            } else {
                reasons.put(s.id, "score");
            }
        }
        Map<String, Integer> dropped = new TreeMap<>();
        List<ObjectNode> droppedLines = new ArrayList<>();
        for (Sample s : samples) {
            String reason = reasons.get(s.id);
            if (reason != null) {
                dropped.merge(reason, 1, Integer::sum);
                droppedLines.add(s.json(reason, scores.get(s.id)));
            }
        }
        if (kept.size() + droppedLines.size() != samples.size()) {
            throw new IllegalStateException("round " + r + ": " + samples.size() + " generated but " + kept.size()
                    + " kept + " + droppedLines.size() + " dropped (a filter stage changed document ids?)");
        }
        writeLines(dir.resolve("kept.jsonl"), kept.stream().map(s -> s.json(null, scores.get(s.id))).toList());
        writeLines(dir.resolve("dropped.jsonl"), droppedLines);
        if (kept.isEmpty()) {
            writeRound(dir, r, samples.size(), 0, dropped, 0, null, before, Double.NaN);
            throw new IllegalStateException("round " + r + ": the filter dropped all " + samples.size()
                    + " generated samples " + dropped + "; nothing to fine-tune on (see " + dir + ")");
        }
        List<String> synthetic = cap(kept, r);
        List<String> mix = new ArrayList<>(realData);
        mix.addAll(synthetic);
        Collections.shuffle(mix, new Random(seed * 31 + r));
        writeLines(dir.resolve("training.jsonl"), mix.stream().map(t -> LINES.createObjectNode().put("text", t)).toList());
        TokenDataset data = Pipeline.from(Dataset.of(mix)).tokenize(model.tokenizer()).pack(sequenceLength)
                .progressEvery(java.time.Duration.ofHours(1)).collectTokens();
        TrainingResult training = fineTune.apply(FineTuner.of(model)).train(data);
        double after = evaluate();
        writeRound(dir, r, samples.size(), kept.size(), dropped, synthetic.size(), training, before, after);
        return new SelfImprovementRound(r, samples.size(), kept.size(), dropped, synthetic.size(), realData.size(),
                training, before, after, dir);
    }

    // the kept samples' training texts, subsampled (seeded) so that they are at most the allowed share of the mix
    private List<String> cap(List<Sample> kept, int round) {
        List<String> texts = new ArrayList<>(kept.stream().map(s -> s.text).toList());
        if (maxSyntheticShare >= 1) {
            return texts;
        }
        int allowed = (int) Math.floor(maxSyntheticShare / (1 - maxSyntheticShare) * realData.size());
        if (texts.size() <= allowed) {
            return texts;
        }
        Collections.shuffle(texts, new Random(seed * 17 + round));
        return new ArrayList<>(texts.subList(0, Math.max(1, allowed)));
    }

    private List<Sample> generate(int round) {
        ArrayDeque<Sample> pending = new ArrayDeque<>();
        for (int p = 0; p < prompts.size(); p++) {
            for (int k = 0; k < samplesPerPrompt; k++) {
                pending.add(new Sample("r" + round + "-p" + p + "-s" + k, prompts.get(p), pending.size()));
            }
        }
        List<Sample> all = new ArrayList<>(pending);
        long cap = (long) concurrency * model.config().maxPositionEmbeddings();
        try (ContinuousBatch batch = model.continuousBatch(concurrency, cap)) {
            while (!pending.isEmpty() || batch.running() > 0) {
                while (!pending.isEmpty()) {
                    Sample s = pending.peek();
                    Generation g = sampling.apply(model.generate(s.prompt))
                            .seed(seed * 1_000_003L + round * 10_007L + s.index);
                    if (!batch.fits(g)) {
                        throw new IllegalArgumentException("prompt '" + s.prompt + "' + the sampling's maxNewTokens "
                                + "exceed the model's context");
                    }
                    if (!batch.canAdmit(g)) {
                        break;
                    }
                    batch.admit(g, pending.poll());
                }
                batch.step();
            }
        }
        for (Sample s : all) {
            if (s.error != null) {
                throw new IllegalStateException("generating sample " + s.id + " failed", s.error);
            }
        }
        return all;
    }

    private double evaluate() {
        if (metric != null) {
            return metric.applyAsDouble(model);
        }
        double nll = 0;
        long tokens = 0;
        int context = model.config().maxPositionEmbeddings();
        for (String text : heldOut) {
            int[] ids = model.tokenizer().encode(text);
            if (ids.length > context) {
                ids = java.util.Arrays.copyOf(ids, context);
            }
            if (ids.length < 2) {
                continue;
            }
            nll += model.loss(new int[][] {ids}) * (ids.length - 1);
            tokens += ids.length - 1;
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("the held-out texts have no text of 2 or more tokens to score");
        }
        return nll / tokens;
    }

    private void writeRound(Path dir, int r, int generated, int kept, Map<String, Integer> dropped, int trainedOn,
            TrainingResult training, double before, double after) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("round", r).put("generated", generated).put("kept", kept);
        ObjectNode d = n.putObject("dropped");
        dropped.forEach(d::put);
        n.put("synthetic_in_mix", trainedOn).put("real_in_mix", realData.size());
        n.put("metric", metricName != null ? metricName : "held_out_loss").put("metric_before", before)
                .put("metric_after", after);
        if (training != null) {
            n.put("steps", training.steps()).put("final_train_loss", training.finalLoss());
        }
        AtomicFiles.writeString(dir.resolve("round.json"), JSON.writeValueAsString(n));
    }

    private ObjectNode reportJson(SelfImprovementReport report) {
        ObjectNode n = JSON.createObjectNode();
        n.put("metric", report.metric()).put("higher_is_better", report.higherIsBetter())
                .put("baseline", report.baseline()).put("final", report.finalMetric())
                .put("stopped_early", report.stoppedEarly()).put("stop_reason", report.stopReason());
        ArrayNode a = n.putArray("rounds");
        for (SelfImprovementRound r : report.rounds()) {
            ObjectNode o = a.addObject();
            o.put("round", r.round()).put("generated", r.generated()).put("kept", r.kept())
                    .put("dropped", r.droppedTotal()).put("metric_before", r.metricBefore())
                    .put("metric_after", r.metricAfter());
        }
        return n;
    }

    private static void writeLines(Path file, List<ObjectNode> lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode line : lines) {
            sb.append(LINES.writeValueAsString(line)).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** One generated sample; also the listener that receives its generation. */
    private static final class Sample implements BatchDecoder.Listener {
        final String id;
        final String prompt;
        final int index;
        String response = "";
        String text;
        String finish;
        Throwable error;

        Sample(String id, String prompt, int index) {
            this.id = id;
            this.prompt = prompt;
            this.index = index;
        }

        Sample withText(String t) {
            text = t;
            return this;
        }

        @Override
        public void onPiece(String piece) {
            // the complete text arrives with onComplete
        }

        @Override
        public void onComplete(GenerationResult result) {
            response = result.text();
            finish = result.finishReason().name().toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public void onFailure(Throwable e) {
            error = e;
        }

        ObjectNode json(String reason, Double score) {
            ObjectNode n = LINES.createObjectNode().put("id", id).put("prompt", prompt).put("response", response)
                    .put("finish_reason", finish);
            if (score != null) {
                n.put("score", score);
            }
            if (reason != null) {
                n.put("reason", reason);
            }
            return n;
        }
    }
}
