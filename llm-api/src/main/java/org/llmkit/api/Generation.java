package org.llmkit.api;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.llmkit.api.generate.GenerationResult;
import org.llmkit.api.generate.Generator;
import org.llmkit.api.generate.SamplingSettings;

/**
 * A generation request, configured fluently and run by a terminal method ({@link #tokens()},
 * {@link #text()}, {@link #stream(Consumer)}, {@link #result()}, {@link #results()}).
 *
 * <pre>{@code
 * int[] out = model.generate(ids).maxNewTokens(16).greedy().tokens();
 * String s = model.generate("Once upon").maxNewTokens(64).temperature(0.8).topP(0.95).seed(7).text();
 * }</pre>
 *
 * <p>Defaults come from the model's {@code generation_config.json} (sampling when it says
 * {@code do_sample}, greedy otherwise; its EOS ids) and 128 new tokens. Each setter checks its value;
 * the terminal method checks the prompts against the model. A request may be run more than once.
 */
public final class Generation {
    private final LanguageModel model;
    private final List<int[]> prompts;
    private int maxNewTokens;
    private boolean greedy;
    private double temperature;
    private int topK;
    private double topP;
    private double repetitionPenalty;
    private long seed;
    private final List<String> stops = new ArrayList<>();
    private final Set<Integer> stopTokens = new LinkedHashSet<>();
    private boolean ignoreEos;
    private BooleanSupplier cancelled = () -> false;

    private final Runner runner;
    private final boolean textOnly;

    /** Runs the frozen request (the text model's decode loop, or a vision-language model's). */
    @FunctionalInterface
    interface Runner {
        List<GenerationResult> run(List<int[]> prompts, Generator.Request request, Generator.PieceListener listener);
    }

    Generation(LanguageModel model, List<int[]> prompts, GenerationDefaults defaults) {
        this(model, prompts, defaults, model::runGeneration, true);
    }

    Generation(LanguageModel model, List<int[]> prompts, GenerationDefaults defaults, Runner runner,
            boolean textOnly) {
        this.runner = runner;
        this.textOnly = textOnly;
        this.model = model;
        this.prompts = prompts;
        this.maxNewTokens = defaults.maxNewTokens();
        this.greedy = defaults.sampling().greedy();
        this.temperature = defaults.sampling().temperature();
        this.topK = defaults.sampling().topK();
        this.topP = defaults.sampling().topP();
        this.repetitionPenalty = defaults.sampling().repetitionPenalty();
        this.stopTokens.addAll(defaults.eosTokenIds());
    }

    /**
     * @param n how many tokens to generate at most; > 0
     * @return this
     */
    public Generation maxNewTokens(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("maxNewTokens must be > 0 but is " + n);
        }
        maxNewTokens = n;
        return this;
    }

    /** @return this, set to take the most likely token at each step */
    public Generation greedy() {
        greedy = true;
        return this;
    }

    /**
     * Samples with the given temperature (switches greedy off).
     *
     * @param t > 0; below 1 sharpens, above 1 flattens the distribution
     * @return this
     */
    public Generation temperature(double t) {
        if (!(t > 0) || Double.isInfinite(t)) {
            throw new IllegalArgumentException("temperature must be > 0 (use greedy() for argmax) but is " + t);
        }
        temperature = t;
        greedy = false;
        return this;
    }

    /**
     * Samples among the k most likely tokens (switches greedy off).
     *
     * @param k > 0, or 0 for no limit
     * @return this
     */
    public Generation topK(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off) but is " + k);
        }
        topK = k;
        greedy = false;
        return this;
    }

    /**
     * Nucleus sampling: samples among the most likely tokens whose probabilities add up to p (switches greedy off).
     *
     * @param p in (0, 1]
     * @return this
     */
    public Generation topP(double p) {
        if (!(p > 0 && p <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] but is " + p);
        }
        topP = p;
        greedy = false;
        return this;
    }

    /**
     * Penalises tokens already in the prompt or output (transformers' {@code repetition_penalty}).
     *
     * @param penalty > 0; 1 = off, 1.1-1.3 typical
     * @return this
     */
    public Generation repetitionPenalty(double penalty) {
        if (!(penalty > 0) || Double.isInfinite(penalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be > 0 (1 = off) but is " + penalty);
        }
        repetitionPenalty = penalty;
        return this;
    }

    /**
     * @param s seed of the sampler; the same seed and settings give the same output
     * @return this
     */
    public Generation seed(long s) {
        seed = s;
        return this;
    }

    /**
     * Ends generation when the text contains one of these strings (which is not part of the output).
     *
     * @param strings non-empty stop strings
     * @return this
     */
    public Generation stop(String... strings) {
        for (String s : strings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
            stops.add(s);
        }
        return this;
    }

    /**
     * Adds token ids that end generation (besides the model's EOS ids).
     *
     * @param ids token ids
     * @return this
     */
    public Generation stopTokens(int... ids) {
        for (int id : ids) {
            stopTokens.add(id);
        }
        return this;
    }

    /**
     * Stops generation early when {@code condition} turns true (polled before every decode step, e.g. a client
     * that disconnected); the terminal method then throws {@link java.util.concurrent.CancellationException}
     * and all per-generation memory is released.
     *
     * @param condition the cancellation condition; called from the generating thread
     * @return this
     */
    public Generation cancelWhen(BooleanSupplier condition) {
        cancelled = java.util.Objects.requireNonNull(condition, "condition");
        return this;
    }

    /** @return this, set to keep generating past EOS tokens (benchmarks) */
    public Generation ignoreEos() {
        ignoreEos = true;
        return this;
    }

    /**
     * Runs a single-prompt request.
     *
     * @return prompt followed by the new tokens
     */
    public int[] tokens() {
        return single().tokens();
    }

    /**
     * Runs a single-prompt request.
     *
     * @return the generated text (needs a tokenizer)
     */
    public String text() {
        requireTokenizer();
        return single().text();
    }

    /**
     * Runs a single-prompt request, handing text pieces to {@code consumer} as they become final. Pieces never
     * split a multi-byte character and never contain (part of) a stop string.
     *
     * @param consumer receives each piece
     * @return the full result
     */
    public GenerationResult stream(Consumer<String> consumer) {
        requireTokenizer();
        requireSingle();
        return run((row, piece) -> consumer.accept(piece)).get(0);
    }

    /**
     * Runs a single-prompt request.
     *
     * @return the result with tokens, text, finish reason and timings
     */
    public GenerationResult result() {
        return single();
    }

    /**
     * Runs the request for every prompt in one batch (left-padded).
     *
     * @return one result per prompt, in order
     */
    public List<GenerationResult> results() {
        return run(null);
    }

    private GenerationResult single() {
        requireSingle();
        return run(null).get(0);
    }

    private void requireSingle() {
        if (prompts.size() != 1) {
            throw new IllegalStateException("this request has " + prompts.size() + " prompts; use results()");
        }
    }

    private void requireTokenizer() {
        if (!model.hasTokenizer()) {
            throw new IllegalStateException("text output needs a tokenizer, but the model has none ("
                    + model.source() + "); use tokens()");
        }
    }

    private List<GenerationResult> run(Generator.PieceListener listener) {
        return runner.run(prompts, request(), listener);
    }

    /** @return whether the request runs the text model's own decode loop (no image features) */
    boolean textOnly() {
        return textOnly;
    }

    /** @return the prompts as given (not copied) */
    List<int[]> prompts() {
        return prompts;
    }

    /** @return the model this request runs on */
    LanguageModel model() {
        return model;
    }

    /**
     * Checks the prompts against the model and freezes the settings.
     *
     * @return the decode loop's request
     */
    Generator.Request request() {
        if (!stops.isEmpty()) {
            requireTokenizer();
        }
        ModelConfig c = model.config();
        for (int i = 0; i < prompts.size(); i++) {
            model.checkIds(prompts.get(i), "prompt " + i);
            if (prompts.get(i).length + maxNewTokens > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("prompt " + i + " (" + prompts.get(i).length
                        + " tokens) + maxNewTokens (" + maxNewTokens + ") exceeds the model's context of "
                        + c.maxPositionEmbeddings() + " tokens (max_position_embeddings)");
            }
        }
        SamplingSettings sampling = new SamplingSettings(greedy, temperature, topK, topP, repetitionPenalty, seed);
        Set<Integer> eos = ignoreEos ? Set.of() : Set.copyOf(stopTokens);
        return new Generator.Request(sampling, maxNewTokens, eos, List.copyOf(stops),
                model.hasTokenizer() ? ids -> model.tokenizer().decode(ids, true) : null, cancelled);
    }
}
