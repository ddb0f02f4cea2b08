package org.llmkit.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleBiFunction;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * A generation task in the style of lm-evaluation-harness's {@code generate_until}: each prompt is
 * completed greedily until a stop string or {@code maxNewTokens}, and the completions are compared
 * with the references by exact match, BLEU and ROUGE.
 *
 * <pre>{@code
 * GenerationTask task = GenerationTask.of("qa", List.of(GenerationExample.of("Capital of France?", "Paris")))
 *         .template("Q: {context}\nA:").stop("\n").maxNewTokens(16);
 * }</pre>
 *
 * <p>Prompts are encoded with the tokenizer's special tokens (as {@code model.generate(String)}
 * does) and run {@link #batchSize} at a time, left-padded together. Predictions and references are
 * trimmed before scoring.
 */
public final class GenerationTask implements Task {
    /** The default number of prompts generated together. */
    public static final int DEFAULT_BATCH_SIZE = 8;

    private final String name;
    private final List<GenerationExample> examples;
    private final String template;
    private final List<String> stops;
    private final int maxNewTokens;
    private final int batchSize;
    private final List<GenerationMetric> metrics;

    private GenerationTask(String name, List<GenerationExample> examples, String template, List<String> stops,
            int maxNewTokens, int batchSize, List<GenerationMetric> metrics) {
        this.name = name;
        this.examples = examples;
        this.template = template;
        this.stops = stops;
        this.maxNewTokens = maxNewTokens;
        this.batchSize = batchSize;
        this.metrics = metrics;
    }

    /**
     * Creates a task with template {@code "{context}"}, stop string {@code "\n\n"}, 32 new tokens and
     * every metric.
     *
     * @param name the task's name in reports: letters, digits, {@code _ - .}
     * @param examples at least one example
     * @return the task
     */
    public static GenerationTask of(String name, List<GenerationExample> examples) {
        return new GenerationTask(name, MultipleChoiceTask.checkedExamples(name, examples), MultipleChoiceTask.CONTEXT,
                List.of("\n\n"), 32, DEFAULT_BATCH_SIZE, List.of(GenerationMetric.values()));
    }

    /**
     * Sets the prompt template.
     *
     * @param pattern text containing {@value MultipleChoiceTask#CONTEXT} exactly once
     * @return a copy with the template
     */
    public GenerationTask template(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        int first = pattern.indexOf(MultipleChoiceTask.CONTEXT);
        if (first < 0 || pattern.indexOf(MultipleChoiceTask.CONTEXT, first + 1) >= 0) {
            throw new IllegalArgumentException("template must contain " + MultipleChoiceTask.CONTEXT
                    + " exactly once, was '" + pattern + "'");
        }
        return new GenerationTask(name, examples, pattern, stops, maxNewTokens, batchSize, metrics);
    }

    /**
     * Sets the stop strings (replacing the default); a stop string is not part of the prediction.
     *
     * @param strings zero or more non-empty strings; none means stop only at EOS or the token limit
     * @return a copy with the stop strings
     */
    public GenerationTask stop(String... strings) {
        for (String s : strings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
        }
        return new GenerationTask(name, examples, template, List.of(strings), maxNewTokens, batchSize, metrics);
    }

    /**
     * Sets the most tokens generated per example.
     *
     * @param tokens at least 1
     * @return a copy with the setting
     */
    public GenerationTask maxNewTokens(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, was " + tokens);
        }
        return new GenerationTask(name, examples, template, stops, tokens, batchSize, metrics);
    }

    /**
     * Sets how many prompts are generated together.
     *
     * @param prompts at least 1; default {@value #DEFAULT_BATCH_SIZE}
     * @return a copy with the setting
     */
    public GenerationTask batchSize(int prompts) {
        if (prompts < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, was " + prompts);
        }
        return new GenerationTask(name, examples, template, stops, maxNewTokens, prompts, metrics);
    }

    /**
     * Chooses the metrics to report, in the order given.
     *
     * @param chosen at least one metric, no repeats
     * @return a copy with the metrics
     */
    public GenerationTask metrics(GenerationMetric... chosen) {
        List<GenerationMetric> list = List.of(chosen);
        if (list.isEmpty() || new java.util.HashSet<>(list).size() != list.size()) {
            throw new IllegalArgumentException("metrics must be at least one GenerationMetric without repeats, was "
                    + list);
        }
        return new GenerationTask(name, examples, template, stops, maxNewTokens, batchSize, list);
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Returns the examples.
     *
     * @return an unmodifiable list
     */
    public List<GenerationExample> examples() {
        return examples;
    }

    /**
     * Builds the prompt of one example.
     *
     * @param index the example's index
     * @return the filled template
     */
    public String prompt(int index) {
        return template.replace(MultipleChoiceTask.CONTEXT, examples.get(index).context());
    }

    /**
     * Generates a completion for every example and scores them.
     *
     * @param model a model with a tokenizer
     * @return the metrics, with the predictions in {@link TaskResult#generations()}
     */
    @Override
    public TaskResult evaluate(LanguageModel model) {
        List<String> predictions = generate(model);
        List<List<String>> references = examples.stream()
                .map(e -> e.references().stream().map(String::strip).toList()).toList();
        Map<String, Double> values = new LinkedHashMap<>();
        for (GenerationMetric m : metrics) {
            values.put(m.key(), switch (m) {
                case EXACT_MATCH -> best(references, predictions, (r, p) -> r.equals(p) ? 1 : 0);
                case BLEU -> Metrics.bleuMultiReference(references, predictions);
                case ROUGE1 -> best(references, predictions, (r, p) -> Rouge.n(r, p, 1));
                case ROUGE2 -> best(references, predictions, (r, p) -> Rouge.n(r, p, 2));
                case ROUGE_L -> best(references, predictions, Rouge::l);
            });
        }
        values.put("examples", (double) examples.size());
        return new TaskResult(name, values, List.of(), predictions);
    }

    private List<String> generate(LanguageModel model) {
        List<int[]> prompts = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            prompts.add(model.tokenizer().encode(prompt(i), true));
        }
        List<String> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += batchSize) {
            List<int[]> batch = prompts.subList(from, Math.min(from + batchSize, prompts.size()));
            var request = model.generate(batch).greedy().maxNewTokens(maxNewTokens);
            if (!stops.isEmpty()) {
                request.stop(stops.toArray(String[]::new));
            }
            for (GenerationResult r : request.results()) {
                out.add(r.text().strip());
            }
        }
        return out;
    }

    /** Mean over examples of the best score against any of the example's references. */
    private static double best(List<List<String>> references, List<String> predictions,
            ToDoubleBiFunction<String, String> metric) {
        double sum = 0;
        for (int i = 0; i < predictions.size(); i++) {
            double top = 0;
            for (String r : references.get(i)) {
                top = Math.max(top, metric.applyAsDouble(r, predictions.get(i)));
            }
            sum += top;
        }
        return sum / predictions.size();
    }
}
