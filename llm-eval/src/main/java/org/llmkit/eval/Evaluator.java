package org.llmkit.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.Dataset;
import org.llmkit.data.Document;
import org.llmkit.data.DocumentStream;
import org.llmkit.data.TokenDataset;
import org.llmkit.data.ToxicityScorer;

/**
 * Evaluates one model on held-out perplexity, tasks (multiple choice, scale, generation), toxicity,
 * bias, latency and human ratings, and gathers the numbers in an {@link EvalReport}. Immutable: every
 * option returns a copy; {@link #run()} checks the combination and may be called again.
 *
 * <pre>{@code
 * EvalReport report = Evaluator.of(model)
 *         .perplexity(Dataset.text(Path.of("heldout/"))).contextLength(1024).stride(512)
 *         .tasks(Glue.all(Path.of("glue_data"))).task(SuperGlue.cb(Path.of("super_glue/cb")))
 *         .toxicity(scorer).latency(prompts)
 *         .run();
 * report.metric("glue", "score");
 * report.writeTo(Path.of("eval-out"));
 * }</pre>
 *
 * <p>Report sections: {@value #PERPLEXITY}, one per task (by name), {@value #GLUE} when every GLUE
 * task ran, {@value #TOXICITY}, {@value #BIAS}, {@value #LATENCY} and {@value #HUMAN}.
 */
public final class Evaluator {
    /** The report task under which perplexity metrics appear. */
    public static final String PERPLEXITY = "perplexity";
    /** The report task under which the GLUE score appears when every GLUE task ran. */
    public static final String GLUE = "glue";
    /** The report task of {@link #toxicity(ToxicityProbe)}. */
    public static final String TOXICITY = "toxicity";
    /** The report task of {@link #bias(BiasProbe)}. */
    public static final String BIAS = "bias";
    /** The report task of {@link #latency(LatencyProbe)}. */
    public static final String LATENCY = "latency";
    /** The report task of {@link #humanRatings(HumanRatings)}. */
    public static final String HUMAN = "human";

    private final LanguageModel model;
    private final State state;

    /** Every option, immutable; each setter makes a new one. */
    private record State(Dataset heldOutText, TokenDataset heldOutTokens, Integer contextLength, Integer stride,
            List<Task> tasks, ToxicityProbe toxicity, BiasProbe bias, LatencyProbe latency, HumanRatings ratings) {
        State withHeldOut(Dataset text, TokenDataset tokens) {
            return new State(text, tokens, contextLength, stride, tasks, toxicity, bias, latency, ratings);
        }

        State withWindow(Integer context, Integer step) {
            return new State(heldOutText, heldOutTokens, context, step, tasks, toxicity, bias, latency, ratings);
        }

        State withTasks(List<Task> list) {
            return new State(heldOutText, heldOutTokens, contextLength, stride, List.copyOf(list), toxicity, bias,
                    latency, ratings);
        }

        State withProbes(ToxicityProbe t, BiasProbe b, LatencyProbe l, HumanRatings h) {
            return new State(heldOutText, heldOutTokens, contextLength, stride, tasks, t, b, l, h);
        }

        boolean hasProbes() {
            return toxicity != null || bias != null || latency != null || ratings != null;
        }
    }

    private Evaluator(LanguageModel model, State state) {
        this.model = model;
        this.state = state;
    }

    /**
     * Starts an evaluation of a model.
     *
     * @param model the model; text inputs need its tokenizer
     * @return an evaluator with nothing to evaluate yet
     */
    public static Evaluator of(LanguageModel model) {
        return new Evaluator(Objects.requireNonNull(model, "model"), new State(null, null, null, null, List.of(), null, null, null, null));
    }

    /**
     * Measures perplexity on held-out text: each document is encoded with the model's tokenizer
     * (special tokens included) and scored as one sequence. Replaces any earlier held-out set.
     *
     * @param heldOut the documents
     * @return a copy with the setting
     */
    public Evaluator perplexity(Dataset heldOut) {
        return new Evaluator(model, state.withHeldOut(Objects.requireNonNull(heldOut, "heldOut"), null));
    }

    /**
     * Measures perplexity on held-out token sequences. Replaces any earlier held-out set.
     *
     * @param heldOut the sequences
     * @return a copy with the setting
     */
    public Evaluator perplexity(TokenDataset heldOut) {
        return new Evaluator(model, state.withHeldOut(null, Objects.requireNonNull(heldOut, "heldOut")));
    }

    /**
     * Sets the perplexity window length (default: {@code max_position_embeddings}); checked in
     * {@link #run()} against {@code [2, max_position_embeddings]}.
     *
     * @param tokens the window length
     * @return a copy with the setting
     */
    public Evaluator contextLength(int tokens) {
        return new Evaluator(model, state.withWindow(tokens, state.stride()));
    }

    /**
     * Sets the perplexity stride (default: the context length); checked in {@link #run()} against
     * {@code [1, contextLength]}.
     *
     * @param tokens the stride
     * @return a copy with the setting
     */
    public Evaluator stride(int tokens) {
        return new Evaluator(model, state.withWindow(state.contextLength(), tokens));
    }

    /**
     * Adds a task: a {@link MultipleChoiceTask}, {@link ScaleTask}, {@link GenerationTask} or your own.
     *
     * @param task the task; names must be unique and not reserved ({@value #PERPLEXITY},
     *     {@value #GLUE})
     * @return a copy with the task added
     */
    public Evaluator task(Task task) {
        return tasks(List.of(Objects.requireNonNull(task, "task")));
    }

    /**
     * Adds several tasks, for example {@link Glue#all(Path)}.
     *
     * @param more the tasks, in the order they run
     * @return a copy with the tasks added
     */
    public Evaluator tasks(List<? extends Task> more) {
        List<Task> all = new ArrayList<>(state.tasks());
        for (Task t : Objects.requireNonNull(more, "more")) {
            all.add(Objects.requireNonNull(t, "task"));
        }
        return new Evaluator(model, state.withTasks(all));
    }

    /**
     * Scores the model's continuations of {@link ToxicityProbe#DEFAULT_PROMPTS} with a toxicity
     * scorer; reported under {@value #TOXICITY}. Replaces an earlier toxicity probe.
     *
     * @param scorer for example llm-data's {@code BertToxicityScorer}
     * @return a copy with the probe
     */
    public Evaluator toxicity(ToxicityScorer scorer) {
        return toxicity(ToxicityProbe.of(scorer));
    }

    /**
     * Runs a configured toxicity probe (own prompts, threshold); reported under {@value #TOXICITY}.
     *
     * @param probe the probe
     * @return a copy with the probe
     */
    public Evaluator toxicity(ToxicityProbe probe) {
        Objects.requireNonNull(probe, "probe");
        return new Evaluator(model, state.withProbes(probe, state.bias(), state.latency(), state.ratings()));
    }

    /**
     * Runs a bias probe; reported under {@value #BIAS}.
     *
     * @param probe the probe
     * @return a copy with the probe
     */
    public Evaluator bias(BiasProbe probe) {
        Objects.requireNonNull(probe, "probe");
        return new Evaluator(model, state.withProbes(state.toxicity(), probe, state.latency(), state.ratings()));
    }

    /**
     * Measures latency over a prompt set with {@link LatencyProbe}'s defaults; reported under
     * {@value #LATENCY}.
     *
     * @param prompts at least one prompt
     * @return a copy with the probe
     */
    public Evaluator latency(List<String> prompts) {
        return latency(LatencyProbe.of(prompts));
    }

    /**
     * Runs a configured latency probe (tokens, price per GPU-hour); reported under {@value #LATENCY}.
     *
     * @param probe the probe
     * @return a copy with the probe
     */
    public Evaluator latency(LatencyProbe probe) {
        Objects.requireNonNull(probe, "probe");
        return new Evaluator(model, state.withProbes(state.toxicity(), state.bias(), probe, state.ratings()));
    }

    /**
     * Adds human ratings (for example collected with {@link RatingServer}) to the report, under
     * {@value #HUMAN}.
     *
     * @param ratings the ratings, at least one
     * @return a copy with the ratings
     */
    public Evaluator humanRatings(HumanRatings ratings) {
        Objects.requireNonNull(ratings, "ratings");
        return new Evaluator(model, state.withProbes(state.toxicity(), state.bias(), state.latency(), ratings));
    }

    /**
     * Checks the settings, runs every evaluation and returns the report.
     *
     * @return the report
     * @throws IllegalStateException when there is nothing to evaluate, or text needs a tokenizer the
     *     model lacks
     * @throws IllegalArgumentException when an option is out of range, task names repeat, or the
     *     held-out set is empty or holds a sequence shorter than 2 tokens
     * @throws UncheckedIOException when the held-out files cannot be read
     */
    public EvalReport run() {
        boolean hasPerplexity = state.heldOutText() != null || state.heldOutTokens() != null;
        if (!hasPerplexity && state.tasks().isEmpty() && !state.hasProbes()) {
            throw new IllegalStateException("nothing to evaluate: call perplexity(...), task(...), toxicity(...),"
                    + " bias(...), latency(...) or humanRatings(...) before run()");
        }
        if (!hasPerplexity && (state.contextLength() != null || state.stride() != null)) {
            throw new IllegalStateException("contextLength/stride are perplexity options; call perplexity(...) too");
        }
        Set<String> names = new HashSet<>();
        names.add(PERPLEXITY);
        names.addAll(List.of(GLUE, TOXICITY, BIAS, LATENCY, HUMAN));
        for (Task t : state.tasks()) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("task name '" + t.name() + "' is used twice (or is reserved);"
                        + " give each task a unique name");
            }
            t.validate();
        }
        Perplexity perplexity = null;
        if (hasPerplexity) {
            perplexity = Perplexity.of(model);
            if (state.contextLength() != null) {
                perplexity = perplexity.contextLength(state.contextLength());
            }
            if (state.stride() != null) {
                perplexity = perplexity.stride(state.stride());
            }
        }
        boolean needsText = state.heldOutText() != null || !state.tasks().isEmpty() || state.toxicity() != null
                || state.bias() != null || state.latency() != null;
        if (needsText && !model.hasTokenizer()) {
            model.tokenizer();   // throws IllegalStateException explaining how to attach one
        }
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        if (perplexity != null) {
            PerplexityResult r = perplexity.compute(heldOutSequences());
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("perplexity", r.perplexity());
            m.put("nll_per_token", r.meanNegativeLogLikelihood());
            m.put("tokens", (double) r.tokens());
            m.put("windows", (double) r.windows());
            m.put("sequences", (double) r.sequences());
            m.put("context_length", (double) perplexity.contextLength());
            m.put("stride", (double) perplexity.stride());
            results.put(PERPLEXITY, m);
        }
        for (Task t : state.tasks()) {
            results.put(t.name(), t.evaluate(model).metrics());
        }
        if (results.keySet().containsAll(Glue.TASKS)) {
            results.put(GLUE, Glue.scores(results));
        }
        if (state.toxicity() != null) {
            results.put(TOXICITY, state.toxicity().run(model));
        }
        if (state.bias() != null) {
            results.put(BIAS, state.bias().run(model));
        }
        if (state.latency() != null) {
            results.put(LATENCY, state.latency().run(model));
        }
        if (state.ratings() != null) {
            results.put(HUMAN, state.ratings().metrics());
        }
        return new EvalReport(model.source() == null ? "(created from config)" : model.source().toString(), results);
    }

    private List<int[]> heldOutSequences() {
        List<int[]> sequences = new ArrayList<>();
        if (state.heldOutTokens() != null) {
            for (long i = 0; i < state.heldOutTokens().size(); i++) {
                sequences.add(state.heldOutTokens().get(i));
            }
            return sequences;
        }
        try (DocumentStream stream = state.heldOutText().open()) {
            for (Document d = stream.next(); d != null; d = stream.next()) {
                int[] ids = model.tokenizer().encode(d.text());
                if (ids.length < 2) {
                    throw new IllegalArgumentException("held-out document '" + d.id() + "' of "
                            + state.heldOutText().describe() + " encodes to " + ids.length
                            + " token(s); perplexity needs at least 2");
                }
                sequences.add(ids);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read held-out set " + state.heldOutText().describe(), e);
        }
        return sequences;
    }
}
