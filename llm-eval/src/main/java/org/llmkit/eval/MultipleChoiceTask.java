package org.llmkit.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.llmkit.api.LanguageModel;

/**
 * A multiple-choice task in the style of EleutherAI's lm-evaluation-harness: examples, a prompt
 * template, optional seeded few-shot examples, scored by the log-likelihood of each choice.
 *
 * <p>The prompt of an example is its few-shot examples (each the filled template, the target
 * delimiter and the gold choice), joined by {@code "\n\n"}, then the filled template. Each choice is
 * scored as {@code delimiter + choice} after the prompt. Metrics: by default {@code acc} (highest
 * summed log-likelihood) and {@code acc_norm} (highest log-likelihood per character of the choice,
 * as lm-eval normalises); see {@link #metrics(TaskMetric...)}. The report also gets {@code examples}.
 * Every prompt + choice sequence of the task is scored {@link #batchSize(int)} at a time, left-padded
 * into one forward pass.
 *
 * <pre>{@code
 * MultipleChoiceTask task = MultipleChoiceTask.of("capitals", examples)
 *         .template("Question: {context}\nAnswer:").fewShot(2, 1234);
 * }</pre>
 */
public final class MultipleChoiceTask implements Task {
    /** The default number of sequences scored per forward pass. */
    public static final int DEFAULT_BATCH_SIZE = 8;

    /** The placeholder a template replaces with the example's context. */
    public static final String CONTEXT = "{context}";

    private final String name;
    private final List<Example> examples;
    private final String template;
    private final String delimiter;
    private final int shots;
    private final long seed;
    private final List<Example> fewShotPool;
    private final List<TaskMetric> metrics;
    private final int batchSize;

    private MultipleChoiceTask(String name, List<Example> examples, String template, String delimiter, int shots,
            long seed, List<Example> fewShotPool, List<TaskMetric> metrics, int batchSize) {
        this.name = name;
        this.examples = examples;
        this.template = template;
        this.delimiter = delimiter;
        this.shots = shots;
        this.seed = seed;
        this.fewShotPool = fewShotPool;
        this.metrics = metrics;
        this.batchSize = batchSize;
    }

    /**
     * Checks a task's name (letters, digits, {@code _ - .}) and that it has examples; shared by the task types.
     *
     * @param name the task's name
     * @param examples its examples
     * @param <T> the example type
     * @return an immutable copy of the examples
     * @throws IllegalArgumentException naming the task when the name is malformed or there are no examples
     */
    static <T> List<T> checkedExamples(String name, List<T> examples) {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("task name must match [A-Za-z0-9_.-]+, was '" + name + "'");
        }
        Objects.requireNonNull(examples, "examples");
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("task '" + name + "' has no examples; the dataset is empty");
        }
        return List.copyOf(examples);
    }

    /**
     * Creates a zero-shot task with template {@code "{context}"} and delimiter {@code " "}.
     *
     * @param name the task's name in reports: letters, digits, {@code _ - .}
     * @param examples the examples to evaluate, at least one
     * @return the task
     */
    public static MultipleChoiceTask of(String name, List<Example> examples) {
        return new MultipleChoiceTask(name, checkedExamples(name, examples), CONTEXT, " ", 0, 0, List.of(),
                List.of(TaskMetric.ACC, TaskMetric.ACC_NORM), DEFAULT_BATCH_SIZE);
    }

    /**
     * Sets the prompt template.
     *
     * @param pattern text containing {@value #CONTEXT} exactly once
     * @return a copy with the template
     */
    public MultipleChoiceTask template(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        int first = pattern.indexOf(CONTEXT);
        if (first < 0 || pattern.indexOf(CONTEXT, first + 1) >= 0) {
            throw new IllegalArgumentException("template must contain " + CONTEXT + " exactly once, was '"
                    + pattern + "'");
        }
        return new MultipleChoiceTask(name, examples, pattern, delimiter, shots, seed, fewShotPool, metrics, batchSize);
    }

    /**
     * Sets the text between the prompt and a choice (lm-eval's {@code target_delimiter}).
     *
     * @param text the delimiter, possibly empty
     * @return a copy with the delimiter
     */
    public MultipleChoiceTask delimiter(String text) {
        return new MultipleChoiceTask(name, examples, template, Objects.requireNonNull(text, "text"), shots, seed,
                fewShotPool, metrics, batchSize);
    }

    /**
     * Prepends {@code k} examples with their gold answers, drawn without replacement from the
     * few-shot pool (by default the other evaluation examples) by a generator seeded per example.
     *
     * @param k the number of shots, at least 0 and below the pool size
     * @param seed the seed; the same seed gives the same prompts
     * @return a copy with the setting
     */
    public MultipleChoiceTask fewShot(int k, long seed) {
        if (k < 0) {
            throw new IllegalArgumentException("few-shot k must be at least 0, was " + k);
        }
        return new MultipleChoiceTask(name, examples, template, delimiter, k, seed, fewShotPool, metrics, batchSize);
    }

    /**
     * Draws few-shot examples from a separate set (such as the training split) instead.
     *
     * @param pool the examples to draw from, at least one
     * @return a copy with the pool
     */
    public MultipleChoiceTask fewShotPool(List<Example> pool) {
        Objects.requireNonNull(pool, "pool");
        if (pool.isEmpty()) {
            throw new IllegalArgumentException("fewShotPool must hold at least one example");
        }
        return new MultipleChoiceTask(name, examples, template, delimiter, shots, seed, List.copyOf(pool), metrics, batchSize);
    }

    /**
     * Chooses the metrics to report, in the order given.
     *
     * @param chosen at least one metric, no repeats; {@link TaskMetric#F1} needs every example to
     *     have exactly two choices
     * @return a copy with the metrics
     */
    public MultipleChoiceTask metrics(TaskMetric... chosen) {
        List<TaskMetric> list = List.of(chosen);
        if (list.isEmpty() || new java.util.HashSet<>(list).size() != list.size()) {
            throw new IllegalArgumentException("metrics must be at least one TaskMetric without repeats, was " + list);
        }
        if (list.contains(TaskMetric.F1)) {
            for (int i = 0; i < examples.size(); i++) {
                if (examples.get(i).choices().size() != 2) {
                    throw new IllegalArgumentException("task '" + name + "': f1 needs exactly 2 choices per example;"
                            + " example " + i + " has " + examples.get(i).choices().size());
                }
            }
        }
        if (list.contains(TaskMetric.F1) && list.contains(TaskMetric.F1_MACRO)) {
            throw new IllegalArgumentException("metrics F1 and F1_MACRO both report as 'f1'; choose one");
        }
        if (list.contains(TaskMetric.F1_MACRO)) {
            int classes = examples.get(0).choices().size();
            for (int i = 0; i < examples.size(); i++) {
                if (examples.get(i).choices().size() != classes) {
                    throw new IllegalArgumentException("task '" + name + "': f1_macro needs the same choices count in"
                            + " every example; example 0 has " + classes + ", example " + i + " has "
                            + examples.get(i).choices().size());
                }
            }
        }
        return new MultipleChoiceTask(name, examples, template, delimiter, shots, seed, fewShotPool, list, batchSize);
    }

    /**
     * Returns the task's name.
     *
     * @return the name
     */
    @Override
    public String name() {
        return name;
    }

    /**
     * Returns the examples.
     *
     * @return an unmodifiable list
     */
    public List<Example> examples() {
        return examples;
    }

    /**
     * Builds the prompt of one example (few-shot examples included), without the choice.
     *
     * @param index the example's index in [0, examples().size())
     * @return the prompt text
     */
    public String prompt(int index) {
        Objects.checkIndex(index, examples.size());
        StringBuilder prompt = new StringBuilder();
        for (Example shot : shotsFor(index)) {
            prompt.append(fill(shot)).append(delimiter).append(shot.choices().get(shot.gold())).append("\n\n");
        }
        return prompt.append(fill(examples.get(index))).toString();
    }

    /**
     * Sets how many prompt + choice sequences one forward pass scores (left-padded together).
     * Batched scores equal one-at-a-time scores within float32 rounding.
     *
     * @param sequences at least 1; default {@value #DEFAULT_BATCH_SIZE}
     * @return a copy with the setting
     */
    public MultipleChoiceTask batchSize(int sequences) {
        if (sequences < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, was " + sequences);
        }
        return new MultipleChoiceTask(name, examples, template, delimiter, shots, seed, fewShotPool, metrics,
                sequences);
    }

    /**
     * Returns how many sequences one forward pass scores.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Scores every example with the model and computes the metrics.
     *
     * @param model a model with a tokenizer
     * @return the result
     */
    @Override
    public TaskResult evaluate(LanguageModel model) {
        List<ExampleScore> scores = score(model);
        int[] gold = new int[scores.size()];
        int[] pred = new int[scores.size()];
        int[] predNorm = new int[scores.size()];
        for (int i = 0; i < scores.size(); i++) {
            gold[i] = scores.get(i).gold();
            pred[i] = scores.get(i).predicted();
            predNorm[i] = scores.get(i).predictedNormalized();
        }
        Map<String, Double> values = new LinkedHashMap<>();
        for (TaskMetric m : metrics) {
            values.put(m.key(), switch (m) {
                case ACC -> Metrics.accuracy(gold, pred);
                case ACC_NORM -> Metrics.accuracy(gold, predNorm);
                case F1 -> Metrics.f1(gold, pred);
                case F1_MACRO -> f1OverChoices(gold, pred);
                case MCC -> Metrics.matthewsCorrelation(gold, pred);
            });
        }
        values.put("examples", (double) examples.size());
        return new TaskResult(name, values, scores);
    }

    /**
     * Scores every example's choices, batching prompt + choice sequences across examples.
     *
     * @param model a model with a tokenizer
     * @return one score per example, in order
     */
    List<ExampleScore> score(LanguageModel model) {
        checkShots();
        List<ChoiceScorer.Request> requests = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            String prompt = prompt(i);
            for (String choice : examples.get(i).choices()) {
                requests.add(new ChoiceScorer.Request(prompt, delimiter + choice));
            }
        }
        double[] all = new ChoiceScorer(model).logLikelihoods(requests, batchSize);
        List<ExampleScore> scores = new ArrayList<>(examples.size());
        int next = 0;
        for (Example e : examples) {
            double[] ll = java.util.Arrays.copyOfRange(all, next, next + e.choices().size());
            next += ll.length;
            scores.add(ExampleScore.of(e.gold(), ll, e.choices()));
        }
        return scores;
    }

    /** Mean binary F1 over every choice index (lm-eval's CB f1): a class never seen still counts, as 0. */
    private double f1OverChoices(int[] gold, int[] pred) {
        int classes = examples.get(0).choices().size();
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += ClassCounts.of(gold, pred, c).f1();
        }
        return sum / classes;
    }

    @Override
    public void validate() {
        checkShots();
    }

    void checkShots() {
        int available = fewShotPool.isEmpty() ? examples.size() - 1 : fewShotPool.size();
        if (shots > available) {
            throw new IllegalArgumentException("task '" + name + "': few-shot k must be in [0, " + available
                    + "] (the few-shot pool size), was " + shots);
        }
    }

    private List<Example> shotsFor(int index) {
        if (shots == 0) {
            return List.of();
        }
        checkShots();
        List<Example> pool = new ArrayList<>(fewShotPool.isEmpty() ? examples : fewShotPool);
        if (fewShotPool.isEmpty()) {
            pool.remove(index);   // never show an example its own answer
        }
        java.util.Collections.shuffle(pool, new Random(seed * 1_000_003L + index));
        return pool.subList(0, shots);
    }

    private String fill(Example e) {
        return template.replace(CONTEXT, e.context());
    }
}
