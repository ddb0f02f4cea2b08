package org.llmkit.samples.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;
import org.llmkit.api.io.AtomicFiles;
import org.llmkit.data.Dataset;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.QualityRules;
import org.llmkit.data.TokenDataset;
import org.llmkit.data.WordListToxicityScorer;
import org.llmkit.eval.EvalReport;
import org.llmkit.eval.Evaluator;
import org.llmkit.samples.bundled.BpeTrainer;
import org.llmkit.samples.bundled.BpeVocabulary;
import org.llmkit.samples.bundled.BundledCorpus;
import org.llmkit.samples.bundled.StoryTasks;
import org.llmkit.serve.LlmServer;
import org.llmkit.train.Evaluation;
import org.llmkit.train.FineTuner;
import org.llmkit.train.Schedule;
import org.llmkit.train.TrainingResult;

/**
 * The user's plan end to end, at laptop scale, on bundled data: build a corpus, clean and tokenize it, train a
 * small Llama from scratch (or fine-tune a model folder, fully or with LoRA), evaluate it, serve it and ask it
 * something over HTTP, and leave everything in one run folder.
 *
 * <pre>{@code
 * PlanSummary s = Plan.run(PlanSettings.defaults(), Path.of("runs/plan"), System.out);
 * }</pre>
 *
 * <p>The run folder:
 * <pre>
 * corpus.jsonl            the raw documents ({"id", "text", "kind"})
 * tokenizer/              the BPE tokenizer trained on the corpus (from scratch only)
 * data/                   pipeline output: train/ and validation/ token shards, report.json, report.md,
 *                         token-lengths.png
 * train/                  metrics.jsonl (every step and evaluation) and loss.png (the loss curve)
 * model/                  the trained model in HuggingFace layout with its tokenizer (adapter/ for LoRA)
 * eval/                   report.json and report.md: perplexity, two multiple-choice tasks, latency
 * serve/                  the chat request sent to the server and its response
 * summary.json, summary.md  the numbers of every step and how long each took
 * </pre>
 */
public final class Plan {
    /** The value of {@code format} in {@code summary.json}. */
    public static final String FORMAT = "llmkit-plan-run";
    /** The message the plan sends to its server. */
    public static final String CHAT_MESSAGE = BundledCorpus.request("Lily", "fox", 0);
    /** The prompt of the sample generation after reloading. */
    public static final String SAMPLE_PROMPT = "Once upon a time,";
    private static final int STEPS = 7;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final PlanSettings settings;
    private final Path out;
    private final PrintStream log;
    private final ObjectNode summary = MAPPER.createObjectNode();
    private final StepLog steps;

    private Plan(PlanSettings settings, Path out, PrintStream log) {
        this.settings = settings;
        this.out = out;
        this.log = log;
        summary.put("format", FORMAT);
        summary.put("version", 1);
        ObjectNode s = summary.putObject("settings");
        s.setAll((ObjectNode) MAPPER.valueToTree(settings));
        s.put("baseModel", settings.baseModel() == null ? null : settings.baseModel().toString());
        s.put("tokenizer", settings.tokenizer() == null ? null : settings.tokenizer().toString());
        steps = new StepLog(log, STEPS, summary.putObject("seconds"));
    }

    /**
     * Runs the plan.
     *
     * @param settings what to do
     * @param runFolder the run folder; created, and must be empty if it exists
     * @param log receives progress lines
     * @return where the outputs are, with the headline numbers
     * @throws IOException when reading or writing fails, or a model folder is missing or corrupt
     * @throws InterruptedException when interrupted while waiting for the server
     * @throws IllegalArgumentException when the run folder is not empty
     */
    public static PlanSummary run(PlanSettings settings, Path runFolder, PrintStream log)
            throws IOException, InterruptedException {
        if (Files.isDirectory(runFolder)) {
            try (var entries = Files.list(runFolder)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("run folder " + runFolder.toAbsolutePath() + " is not empty; "
                            + "choose another with --out or delete it");
                }
            }
        }
        Files.createDirectories(runFolder);
        return new Plan(settings, runFolder.toAbsolutePath(), log).execute();
    }

    private PlanSummary execute() throws IOException, InterruptedException {
        long start = System.nanoTime();
        log.printf("llmkit plan: %s, run folder %s%n", settings.fromScratch() ? "train a small Llama from scratch"
                : (settings.loraRank() > 0 ? "LoRA" : "full") + " fine-tuning of " + settings.baseModel(), out);

        steps.begin("corpus", "generate the bundled stories with noise");
        List<BundledCorpus.Doc> docs;
        Tokenizer tokenizer = settings.fromScratch() ? null : PlanModels.baseTokenizer(settings);
        docs = tokenizer == null ? BundledCorpus.generate(settings.stories(), settings.seed())
                : BundledCorpus.generate(settings.stories(), settings.seed(), PlanModels.chatFormat(tokenizer));
        Path corpusFile = out.resolve("corpus.jsonl");
        BundledCorpus.writeJsonl(docs, corpusFile);
        Map<String, Integer> kinds = new TreeMap<>();
        docs.forEach(d -> kinds.merge(d.kind(), 1, Integer::sum));
        long chars = docs.stream().mapToLong(d -> d.text().length()).sum();
        ObjectNode corpus = summary.putObject("corpus");
        corpus.put("documents", docs.size()).put("characters", chars);
        corpus.set("by_kind", MAPPER.valueToTree(kinds));
        log.printf("  %,d documents, %,d characters: %s -> %s%n", docs.size(), chars, kinds, corpusFile);
        steps.end();

        steps.begin("tokenizer", settings.fromScratch() ? "train a byte-level BPE on the corpus" : "use the model's");
        if (tokenizer == null) {
            List<String> texts = docs.stream().map(BundledCorpus.Doc::text).toList();
            BpeVocabulary vocabulary = BpeTrainer.vocabularySize(settings.vocabularySize()).train(texts);
            Path folder = vocabulary.writeTokenizer(out.resolve("tokenizer"));
            tokenizer = Tokenizer.load(folder);
            summary.putObject("tokenizer").put("vocab_size", tokenizer.vocabSize())
                    .put("merges", vocabulary.mergeCount()).put("folder", folder.toString());
        } else {
            summary.putObject("tokenizer").put("vocab_size", tokenizer.vocabSize())
                    .put("folder", tokenizer.source().toString());
        }
        int[] example = tokenizer.encode(SAMPLE_PROMPT + " there was a little cat.");
        log.printf("  vocabulary %,d; \"%s there was a little cat.\" -> %d tokens %s%n", tokenizer.vocabSize(),
                SAMPLE_PROMPT, example.length, tokenPieces(tokenizer, example));
        steps.end();

        try (Tokenizer tok = tokenizer) {
            return afterTokenizer(tok, corpusFile, start);
        }
    }

    private PlanSummary afterTokenizer(Tokenizer tokenizer, Path corpusFile, long start)
            throws IOException, InterruptedException {
        steps.begin("pipeline", "normalize, dedup, near-dedup, language, quality, toxicity, tokenize, pack, split");
        Path data = out.resolve("data");
        PipelineReport report = Pipeline.from(Dataset.jsonl(corpusFile))
                .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher())
                .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
                .tokenize(tokenizer, true).pack(settings.sequenceLength()).split(0.9, settings.seed())
                .progressEvery(Duration.ofSeconds(5))
                .writeTo(data);
        ObjectNode pipeline = summary.putObject("pipeline");
        pipeline.put("documents_in", report.documentsIn()).put("documents_out", report.documentsOut());
        pipeline.set("dropped_by_reason", MAPPER.valueToTree(report.droppedByReason()));
        log.printf("  %,d documents in, %,d kept; dropped: %s%n", report.documentsIn(), report.documentsOut(),
                report.droppedByReason());
        steps.end();

        try (TokenDataset train = TokenDataset.open(data.resolve("train"));
             TokenDataset validation = TokenDataset.open(data.resolve("validation"))) {
            pipeline.put("train_sequences", train.size()).put("validation_sequences", validation.size());
            log.printf("  %,d training and %,d validation sequences of %d tokens -> %s%n", train.size(),
                    validation.size(), settings.sequenceLength(), data);
            return afterData(tokenizer, train, validation, start);
        }
    }

    private PlanSummary afterData(Tokenizer tokenizer, TokenDataset train, TokenDataset validation, long start)
            throws IOException, InterruptedException {
        steps.begin("train", settings.fromScratch() ? "a small Llama from scratch" : "fine-tune " + settings.baseModel());
        Path modelDir = out.resolve("model");
        Path adapterDir = out.resolve("adapter");
        TrainingResult result;
        try (LanguageModel model = PlanModels.initial(settings, tokenizer, out.resolve("initial-model"))) {
            ObjectNode m = summary.putObject("model");
            m.put("architecture", model.config().modelType()).put("parameters", model.config().parameterCount())
                    .put("hidden_size", model.config().hiddenSize()).put("layers", model.config().numLayers())
                    .put("vocab_size", model.config().vocabSize());
            log.printf("  %s, %,d parameters; %d steps of %d x %d tokens%n", model.config().modelType(),
                    model.config().parameterCount(), settings.steps(), settings.batchSize(),
                    settings.sequenceLength());
            TokenDataset heldOut = validation.slice(0, Math.min(validation.size(), settings.validationSequences()));
            FineTuner tuner = FineTuner.of(model).learningRate(settings.learningRate())
                    .warmupSteps(Math.max(1, settings.steps() / 20)).schedule(Schedule.COSINE).weightDecay(0.1)
                    .batchSize(settings.batchSize()).maxSteps(settings.steps()).seed(settings.seed())
                    .evaluateEvery(settings.evaluateEvery(), heldOut)
                    .logEvery(Math.max(1, settings.steps() / 20)).logTo(out.resolve("train"));
            if (settings.loraRank() > 0) {
                tuner = tuner.lora(settings.loraRank(), 2.0 * settings.loraRank(), "q_proj", "k_proj", "v_proj",
                        "o_proj");
            }
            result = tuner.train(train);
            List<Evaluation> evals = result.evaluations();
            ObjectNode t = summary.putObject("training");
            t.put("steps", result.steps()).put("trainable_parameters", result.trainableParameters())
                    .put("tokens_per_second", result.tokensPerSecond())
                    .put("first_training_loss", result.losses().get(0)).put("final_training_loss", result.finalLoss())
                    .put("initial_validation_loss", evals.get(0).loss())
                    .put("final_validation_loss", evals.get(evals.size() - 1).loss());
            t.set("validation", MAPPER.valueToTree(evals));
            log.printf("  validation loss %.3f -> %.3f (perplexity %.1f -> %.1f), %.0f tokens/s%n",
                    evals.get(0).loss(), evals.get(evals.size() - 1).loss(), evals.get(0).perplexity(),
                    evals.get(evals.size() - 1).perplexity(), result.tokensPerSecond());
            log.printf("  metrics and loss curve -> %s%n", out.resolve("train"));
            steps.end();

            steps.begin("save", "write the model with its tokenizer, reload it and generate");
            if (settings.loraRank() > 0) {
                model.saveAdapter(adapterDir);
                log.printf("  LoRA adapter (PEFT format) -> %s%n", adapterDir);
            } else {
                model.withTokenizer(tokenizer).save(modelDir);
                log.printf("  model and tokenizer -> %s%n", modelDir);
            }
        }
        try (LanguageModel reloaded = PlanModels.reload(settings, modelDir, adapterDir, tokenizer)) {
            String text = reloaded.generate(SAMPLE_PROMPT).maxNewTokens(48).greedy().text();
            summary.putObject("sample").put("prompt", SAMPLE_PROMPT).put("completion", text);
            log.printf("  reloaded; greedy: %s%s%n", SAMPLE_PROMPT, text);
            steps.end();
            return afterSave(reloaded, validation, start);
        }
    }

    private PlanSummary afterSave(LanguageModel model, TokenDataset validation, long start)
            throws IOException, InterruptedException {
        steps.begin("eval", "perplexity, two multiple-choice tasks, latency");
        long taskSeed = settings.seed() + 1_000_003;   // stories the corpus never had
        EvalReport measured = Evaluator.of(model)
                .perplexity(validation).contextLength(settings.sequenceLength())
                .task(StoryTasks.nextSentence(settings.taskExamples(), taskSeed))
                .task(StoryTasks.hero(settings.taskExamples(), taskSeed))
                .run();
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < settings.latencyPrompts(); i++) {
            prompts.add(List.of(SAMPLE_PROMPT, "One day, Tom found", "Lily was a kind fox who",
                    "Every day, Max went to the").get(i % 4));
        }
        Map<String, Map<String, Double>> results = new LinkedHashMap<>(measured.results());
        results.put("latency", Latency.measure(model, prompts, settings.latencyTokens()));
        EvalReport report = new EvalReport(measured.model(), results);
        report.writeTo(out.resolve("eval"));
        summary.set("eval", MAPPER.readTree(report.toJson()).get("results"));
        log.printf("  perplexity %.2f; next sentence acc %.2f (chance 0.33); hero acc %.2f (chance 0.50); "
                        + "first token %.1f ms, decode %.0f tokens/s -> %s%n",
                report.metric("perplexity", "perplexity"), report.metric("story_next_sentence", "acc"),
                report.metric("story_hero", "acc"), report.metric("latency", "time_to_first_token_ms"),
                report.metric("latency", "decode_tokens_per_second"), out.resolve("eval"));
        steps.end();

        steps.begin("serve", "start LlmServer on a free loopback port and send one chat request");
        ChatRequest.Exchange exchange;
        try (LlmServer server = LlmServer.of(model).host("127.0.0.1").port(0).modelName("llmkit-plan").start()) {
            URI base = URI.create("http://127.0.0.1:" + server.port());
            log.printf("  serving on %s/v1; POST /v1/chat/completions \"%s\"%n", base, CHAT_MESSAGE);
            exchange = ChatRequest.send(base, server.modelName(), CHAT_MESSAGE, 120);
        }
        Path serveDir = Files.createDirectories(out.resolve("serve"));
        AtomicFiles.writeString(serveDir.resolve("request.json"), pretty(exchange.request()));
        AtomicFiles.writeString(serveDir.resolve("response.json"), pretty(exchange.response()));
        summary.putObject("serve").put("status", exchange.status()).put("answer", exchange.answer())
                .put("seconds", exchange.seconds());
        if (exchange.status() != 200) {
            throw new IllegalStateException("the server answered HTTP " + exchange.status() + ": "
                    + exchange.response());
        }
        log.printf("  HTTP %d in %.2f s: %s%n", exchange.status(), exchange.seconds(), exchange.answer());
        steps.end();

        double total = (System.nanoTime() - start) / 1e9;
        summary.put("total_seconds", total);
        AtomicFiles.writeString(out.resolve("summary.json"), pretty(summary));
        AtomicFiles.writeString(out.resolve("summary.md"), PlanSummary.markdown(summary));
        log.printf("done in %s; summary -> %s%n", minutes(total), out.resolve("summary.md"));
        return PlanSummary.of(out, summary);
    }

    private static String tokenPieces(Tokenizer t, int[] ids) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            b.append(i == 0 ? "" : "|").append(t.decode(new int[] {ids[i]}));
        }
        return b.append(']').toString();
    }

    private static String pretty(Object json) throws IOException {
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n";
    }

    private static String minutes(double seconds) {
        return String.format(Locale.ROOT, "%d min %02d s", (long) seconds / 60, (long) seconds % 60);
    }
}
