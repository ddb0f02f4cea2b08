package org.llmkit.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.llmkit.api.io.AtomicFiles;

/**
 * The immutable outcome of an {@link Evaluator} run: metrics by task and name, in run order.
 *
 * <p>JSON layout (stable keys):
 * <pre>{@code
 * {"format": "llmkit-eval-report", "version": 1, "model": "/models/llama",
 *  "results": {"perplexity": {"perplexity": 12.3, "tokens": 4096.0, ...}, "copa": {"acc": 0.71, ...}}}
 * }</pre>
 */
public final class EvalReport {
    /** The value of the JSON {@code format} key. */
    public static final String FORMAT = "llmkit-eval-report";
    /** The value of the JSON {@code version} key. */
    public static final int VERSION = 1;

    private final String model;
    private final Map<String, Map<String, Double>> results;

    /**
     * Creates a report.
     *
     * @param model describes the model, for example the folder it was loaded from
     * @param results task name to (metric name to value); copied
     */
    public EvalReport(String model, Map<String, Map<String, Double>> results) {
        this.model = Objects.requireNonNull(model, "model");
        Map<String, Map<String, Double>> copy = new LinkedHashMap<>();
        results.forEach((task, metrics) -> copy.put(task, Collections.unmodifiableMap(new LinkedHashMap<>(metrics))));
        this.results = Collections.unmodifiableMap(copy);
    }

    /**
     * Returns the model description.
     *
     * @return the description
     */
    public String model() {
        return model;
    }

    /**
     * Returns every metric.
     *
     * @return task name to (metric name to value), unmodifiable, in run order
     */
    public Map<String, Map<String, Double>> results() {
        return results;
    }

    /**
     * Returns one metric.
     *
     * @param task the task, for example {@code "perplexity"}
     * @param name the metric, for example {@code "acc"}
     * @return its value
     * @throws IllegalArgumentException naming the tasks or metrics present when either is absent
     */
    public double metric(String task, String name) {
        Map<String, Double> metrics = results.get(task);
        if (metrics == null) {
            throw new IllegalArgumentException("no task '" + task + "' in this report; tasks: " + results.keySet());
        }
        Double value = metrics.get(name);
        if (value == null) {
            throw new IllegalArgumentException("task '" + task + "' has no metric '" + name + "'; metrics: "
                    + metrics.keySet());
        }
        return value;
    }

    /**
     * Renders the report as pretty-printed JSON.
     *
     * @return the JSON text
     */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("model", model);
        ObjectNode tasks = root.putObject("results");
        results.forEach((task, metrics) -> {
            ObjectNode node = tasks.putObject(task);
            metrics.forEach(node::put);
        });
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render report JSON", e);
        }
    }

    /**
     * Renders the report as a Markdown table, one row per metric.
     *
     * @return the Markdown text
     */
    public String toMarkdown() {
        StringBuilder md = new StringBuilder("# Evaluation report\n\nModel: `").append(model).append("`\n\n")
                .append("| task | metric | value |\n| --- | --- | ---: |\n");
        results.forEach((task, metrics) -> metrics.forEach((name, value) -> md.append("| ").append(task)
                .append(" | ").append(name).append(" | ").append(format(value)).append(" |\n")));
        return md.toString();
    }

    /**
     * Draws the report's charts: {@code task-scores} (every task metric), {@code toxicity} (the
     * score histogram), {@code latency} (percentiles) and {@code human-ratings} (score counts), each
     * only when the report has that section.
     *
     * @return chart name to PNG bytes
     */
    public Map<String, byte[]> charts() {
        return ReportCharts.of(results);
    }

    /**
     * Renders the report as one self-contained HTML page: the charts (inline PNG) and a table per task.
     *
     * @return the HTML text
     */
    public String toHtml() {
        StringBuilder body = new StringBuilder("<p>Model: <code>").append(Html.escape(model)).append("</code></p>\n")
                .append(Html.images(charts()));
        results.forEach((task, metrics) -> {
            body.append("<h2>").append(Html.escape(task)).append("</h2>\n<table>\n<tr><th>metric</th><th>value</th></tr>\n");
            metrics.forEach((name, value) -> body.append("<tr><td>").append(Html.escape(name))
                    .append("</td><td class=\"num\">").append(Html.number(value)).append("</td></tr>\n"));
            body.append("</table>\n");
        });
        return Html.page("Evaluation report", body.toString());
    }

    /**
     * Compares two reports, for example before and after fine-tuning.
     *
     * @param before the first report
     * @param after the second report
     * @return every metric of either, side by side with the change
     */
    public static ReportComparison compare(EvalReport before, EvalReport after) {
        return new ReportComparison(before, after);
    }

    /**
     * Writes {@code report.json}, {@code report.md}, {@code report.html} and the charts as
     * {@code charts/<name>.png} into a folder, each atomically (a reader sees the old file or the
     * new one, never a partial one).
     *
     * @param dir the folder, created when missing
     * @throws IOException when a file cannot be written
     */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("report.json"), toJson());
        AtomicFiles.writeString(dir.resolve("report.md"), toMarkdown());
        Map<String, byte[]> charts = charts();
        if (!charts.isEmpty()) {
            Files.createDirectories(dir.resolve("charts"));
            for (Map.Entry<String, byte[]> c : charts.entrySet()) {
                AtomicFiles.writeStream(dir.resolve("charts").resolve(c.getKey() + ".png"), out -> out.write(c.getValue()));
            }
        }
        AtomicFiles.writeString(dir.resolve("report.html"), toHtml());
    }

    private static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value) : String.format(Locale.ROOT, "%.4f", value);
    }

    @Override
    public String toString() {
        return "EvalReport" + results;
    }
}
