package org.llmkit.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
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

/**
 * Evaluates one model on held-out perplexity and multiple-choice tasks and gathers the numbers in
 * an {@link EvalReport}. Immutable: every option returns a copy; {@link #run()} checks the
 * combination and may be called again.
 *
 * <pre>{@code
 * EvalReport report = Evaluator.of(model)
 *         .perplexity(Dataset.text(Path.of("heldout/"))).contextLength(1024).stride(512)
 *         .task(MultipleChoiceTask.of("copa", examples))
 *         .run();
 * report.metric("perplexity", "perplexity");
 * report.writeTo(Path.of("eval-out"));
 * }</pre>
 */
public final class Evaluator {
    /** The report task under which perplexity metrics appear. */
    public static final String PERPLEXITY = "perplexity";

    private final LanguageModel model;
    private final Dataset heldOutText;
    private final TokenDataset heldOutTokens;
    private final Integer contextLength;
    private final Integer stride;
    private final List<MultipleChoiceTask> tasks;

    private Evaluator(LanguageModel model, Dataset heldOutText, TokenDataset heldOutTokens, Integer contextLength,
            Integer stride, List<MultipleChoiceTask> tasks) {
        this.model = model;
        this.heldOutText = heldOutText;
        this.heldOutTokens = heldOutTokens;
        this.contextLength = contextLength;
        this.stride = stride;
        this.tasks = tasks;
    }

    /**
     * Starts an evaluation of a model.
     *
     * @param model the model; text inputs need its tokenizer
     * @return an evaluator with nothing to evaluate yet
     */
    public static Evaluator of(LanguageModel model) {
        return new Evaluator(Objects.requireNonNull(model, "model"), null, null, null, null, List.of());
    }

    /**
     * Measures perplexity on held-out text: each document is encoded with the model's tokenizer
     * (special tokens included) and scored as one sequence. Replaces any earlier held-out set.
     *
     * @param heldOut the documents
     * @return a copy with the setting
     */
    public Evaluator perplexity(Dataset heldOut) {
        return new Evaluator(model, Objects.requireNonNull(heldOut, "heldOut"), null, contextLength, stride, tasks);
    }

    /**
     * Measures perplexity on held-out token sequences. Replaces any earlier held-out set.
     *
     * @param heldOut the sequences
     * @return a copy with the setting
     */
    public Evaluator perplexity(TokenDataset heldOut) {
        return new Evaluator(model, null, Objects.requireNonNull(heldOut, "heldOut"), contextLength, stride, tasks);
    }

    /**
     * Sets the perplexity window length (default: {@code max_position_embeddings}); checked in
     * {@link #run()} against {@code [2, max_position_embeddings]}.
     *
     * @param tokens the window length
     * @return a copy with the setting
     */
    public Evaluator contextLength(int tokens) {
        return new Evaluator(model, heldOutText, heldOutTokens, tokens, stride, tasks);
    }

    /**
     * Sets the perplexity stride (default: the context length); checked in {@link #run()} against
     * {@code [1, contextLength]}.
     *
     * @param tokens the stride
     * @return a copy with the setting
     */
    public Evaluator stride(int tokens) {
        return new Evaluator(model, heldOutText, heldOutTokens, contextLength, tokens, tasks);
    }

    /**
     * Adds a multiple-choice task.
     *
     * @param task the task; names must be unique and not {@value #PERPLEXITY}
     * @return a copy with the task added
     */
    public Evaluator task(MultipleChoiceTask task) {
        List<MultipleChoiceTask> more = new ArrayList<>(tasks);
        more.add(Objects.requireNonNull(task, "task"));
        return new Evaluator(model, heldOutText, heldOutTokens, contextLength, stride, List.copyOf(more));
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
        boolean hasPerplexity = heldOutText != null || heldOutTokens != null;
        if (!hasPerplexity && tasks.isEmpty()) {
            throw new IllegalStateException("nothing to evaluate: call perplexity(...) or task(...) before run()");
        }
        if (!hasPerplexity && (contextLength != null || stride != null)) {
            throw new IllegalStateException("contextLength/stride are perplexity options; call perplexity(...) too");
        }
        Set<String> names = new HashSet<>();
        names.add(PERPLEXITY);
        for (MultipleChoiceTask t : tasks) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("task name '" + t.name() + "' is used twice (or is reserved);"
                        + " give each task a unique name");
            }
            t.checkShots();
        }
        Perplexity perplexity = null;
        if (hasPerplexity) {
            perplexity = Perplexity.of(model);
            if (contextLength != null) {
                perplexity = perplexity.contextLength(contextLength);
            }
            if (stride != null) {
                perplexity = perplexity.stride(stride);
            }
        }
        if ((heldOutText != null || !tasks.isEmpty()) && !model.hasTokenizer()) {
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
        for (MultipleChoiceTask t : tasks) {
            results.put(t.name(), t.evaluate(model).metrics());
        }
        return new EvalReport(model.source() == null ? "(created from config)" : model.source().toString(), results);
    }

    private List<int[]> heldOutSequences() {
        List<int[]> sequences = new ArrayList<>();
        if (heldOutTokens != null) {
            for (long i = 0; i < heldOutTokens.size(); i++) {
                sequences.add(heldOutTokens.get(i));
            }
            return sequences;
        }
        try (DocumentStream stream = heldOutText.open()) {
            for (Document d = stream.next(); d != null; d = stream.next()) {
                int[] ids = model.tokenizer().encode(d.text());
                if (ids.length < 2) {
                    throw new IllegalArgumentException("held-out document '" + d.id() + "' of "
                            + heldOutText.describe() + " encodes to " + ids.length
                            + " token(s); perplexity needs at least 2");
                }
                sequences.add(ids);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read held-out set " + heldOutText.describe(), e);
        }
        return sequences;
    }
}
