package org.llmkit.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.llmkit.api.LanguageModel;

/**
 * A task whose answer is a number on a scale (STS-B's 0-5 similarity), scored by log-likelihood:
 * every point of the scale is a choice (its label, for example {@code "3"}), the choices'
 * log-likelihoods are turned into a distribution by a softmax over the scale, and the prediction
 * is the expected value {@code sum_i p_i * value_i}. The expected value, unlike the most likely
 * point, is continuous, so Pearson and Spearman correlations (the metrics STS-B reports) see the
 * model's graded confidence rather than six buckets. Few-shot examples show the scale label nearest
 * to their gold value.
 *
 * <pre>{@code
 * ScaleTask task = ScaleTask.of("similarity", examples, List.of("0", "1", "2"), new double[] {0, 1, 2})
 *         .template("{context}\nAnswer:");
 * }</pre>
 */
public final class ScaleTask implements Task {
    private final String name;
    private final List<ScaleExample> examples;
    private final List<String> labels;
    private final double[] values;
    private final MultipleChoiceTask choices;

    private ScaleTask(String name, List<ScaleExample> examples, List<String> labels, double[] values,
            MultipleChoiceTask choices) {
        this.name = name;
        this.examples = examples;
        this.labels = labels;
        this.values = values;
        this.choices = choices;
    }

    /**
     * Creates a zero-shot task with template {@code "{context}"} and delimiter {@code " "}.
     *
     * @param name the task's name in reports
     * @param examples at least one example, each gold value within the scale's range
     * @param labels the text of each point of the scale, at least two, non-empty
     * @param values the number each label stands for, as many as labels, strictly increasing
     * @return the task
     */
    public static ScaleTask of(String name, List<ScaleExample> examples, List<String> labels, double[] values) {
        Objects.requireNonNull(examples, "examples");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(values, "values");
        if (labels.size() < 2 || labels.size() != values.length) {
            throw new IllegalArgumentException("a scale needs at least 2 labels and one value per label; got "
                    + labels.size() + " label(s) and " + values.length + " value(s)");
        }
        for (int i = 1; i < values.length; i++) {
            if (!(values[i] > values[i - 1])) {
                throw new IllegalArgumentException("scale values must be strictly increasing; values[" + i + "] = "
                        + values[i] + " after " + values[i - 1]);
            }
        }
        double[] copy = values.clone();
        List<String> labelCopy = List.copyOf(labels);
        MultipleChoiceTask mc = MultipleChoiceTask.of(name, asChoices(name, examples, labelCopy, copy))
                .metrics(TaskMetric.ACC);
        return new ScaleTask(name, List.copyOf(examples), labelCopy, copy, mc);
    }

    /**
     * Sets the prompt template.
     *
     * @param pattern text containing {@value MultipleChoiceTask#CONTEXT} exactly once
     * @return a copy with the template
     */
    public ScaleTask template(String pattern) {
        return new ScaleTask(name, examples, labels, values, choices.template(pattern));
    }

    /**
     * Prepends {@code k} seeded examples, each followed by the scale label nearest its gold value.
     *
     * @param k the number of shots
     * @param seed the seed
     * @return a copy with the setting
     */
    public ScaleTask fewShot(int k, long seed) {
        return new ScaleTask(name, examples, labels, values, choices.fewShot(k, seed));
    }

    /**
     * Draws few-shot examples from a separate set (such as the training split).
     *
     * @param pool at least one example, gold values within the scale's range
     * @return a copy with the pool
     */
    public ScaleTask fewShotPool(List<ScaleExample> pool) {
        return new ScaleTask(name, examples, labels, values,
                choices.fewShotPool(asChoices(name, pool, labels, values)));
    }

    /**
     * Sets how many sequences one forward pass scores.
     *
     * @param sequences at least 1
     * @return a copy with the setting
     */
    public ScaleTask batchSize(int sequences) {
        return new ScaleTask(name, examples, labels, values, choices.batchSize(sequences));
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
    public List<ScaleExample> examples() {
        return examples;
    }

    /**
     * Builds the prompt of one example, without the answer.
     *
     * @param index the example's index
     * @return the prompt
     */
    public String prompt(int index) {
        return choices.prompt(index);
    }

    @Override
    public void validate() {
        choices.validate();
    }

    /**
     * Scores every example; reports {@code pearson} and {@code spearman} of the expected values
     * against the gold values, and {@code examples}.
     *
     * @param model a model with a tokenizer
     * @return the result; its example scores hold each point's log-likelihood
     */
    @Override
    public TaskResult evaluate(LanguageModel model) {
        List<ExampleScore> scores = choices.score(model);
        double[] predicted = predictions(scores);
        double[] gold = examples.stream().mapToDouble(ScaleExample::gold).toArray();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("pearson", Metrics.pearson(gold, predicted));
        metrics.put("spearman", Metrics.spearman(gold, predicted));
        metrics.put("examples", (double) examples.size());
        return new TaskResult(name, metrics, scores);
    }

    /** The expected value of the scale under the softmax of each example's choice log-likelihoods. */
    double[] predictions(List<ExampleScore> scores) {
        double[] out = new double[scores.size()];
        for (int i = 0; i < out.length; i++) {
            List<Double> ll = scores.get(i).logLikelihoods();
            double max = ll.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            double z = 0;
            double weighted = 0;
            for (int c = 0; c < ll.size(); c++) {
                double p = Math.exp(ll.get(c) - max);
                z += p;
                weighted += p * values[c];
            }
            out[i] = weighted / z;
        }
        return out;
    }

    private static List<Example> asChoices(String name, List<ScaleExample> examples, List<String> labels,
            double[] values) {
        List<Example> out = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            ScaleExample e = Objects.requireNonNull(examples.get(i), "examples[" + i + "]");
            if (e.gold() < values[0] || e.gold() > values[values.length - 1]) {
                throw new IllegalArgumentException("task '" + name + "': example " + i + " has gold " + e.gold()
                        + ", outside the scale [" + values[0] + ", " + values[values.length - 1] + "]");
            }
            int nearest = 0;
            for (int c = 1; c < values.length; c++) {
                if (Math.abs(values[c] - e.gold()) < Math.abs(values[nearest] - e.gold())) {
                    nearest = c;
                }
            }
            out.add(new Example(e.context(), labels, nearest));
        }
        return out;
    }
}
