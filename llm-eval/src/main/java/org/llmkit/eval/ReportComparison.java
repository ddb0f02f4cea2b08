package org.llmkit.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.llmkit.api.io.AtomicFiles;

/**
 * Two reports side by side (for example before and after fine-tuning): every metric of either, with
 * both values and the change. Made by {@link EvalReport#compare(EvalReport, EvalReport)}.
 */
public final class ReportComparison {
    /** The value of the JSON {@code format} key. */
    public static final String FORMAT = "llmkit-eval-comparison";

    private final EvalReport before;
    private final EvalReport after;
    private final List<Row> rows;

    /**
     * One metric in both reports.
     *
     * @param task the task
     * @param metric the metric
     * @param before its value before, or NaN when the first report lacks it
     * @param after its value after, or NaN when the second report lacks it
     */
    public record Row(String task, String metric, double before, double after) {

        /**
         * Returns the change.
         *
         * @return {@code after - before}, NaN when either is missing
         */
        public double delta() {
            return after - before;
        }
    }

    ReportComparison(EvalReport before, EvalReport after) {
        this.before = Objects.requireNonNull(before, "before");
        this.after = Objects.requireNonNull(after, "after");
        Set<String> tasks = new LinkedHashSet<>(before.results().keySet());
        tasks.addAll(after.results().keySet());
        List<Row> list = new ArrayList<>();
        for (String task : tasks) {
            Map<String, Double> b = before.results().getOrDefault(task, Map.of());
            Map<String, Double> a = after.results().getOrDefault(task, Map.of());
            Set<String> metrics = new LinkedHashSet<>(b.keySet());
            metrics.addAll(a.keySet());
            for (String m : metrics) {
                list.add(new Row(task, m, b.getOrDefault(m, Double.NaN), a.getOrDefault(m, Double.NaN)));
            }
        }
        this.rows = List.copyOf(list);
    }

    /**
     * Returns every metric of either report, in report order.
     *
     * @return the rows
     */
    public List<Row> rows() {
        return rows;
    }

    /**
     * Returns one row.
     *
     * @param task the task
     * @param metric the metric
     * @return the row
     * @throws IllegalArgumentException when neither report has it
     */
    public Row row(String task, String metric) {
        return rows.stream().filter(r -> r.task().equals(task) && r.metric().equals(metric)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("neither report has " + task + "/" + metric));
    }

    /**
     * Renders the comparison as JSON: {@code {"format", "version", "before": model, "after": model,
     * "rows": [{"task", "metric", "before", "after", "delta"}]}} (missing values are null).
     *
     * @return the JSON text
     */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", EvalReport.VERSION);
        root.put("before", before.model());
        root.put("after", after.model());
        ArrayNode array = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode n = array.addObject().put("task", r.task()).put("metric", r.metric());
            putNumber(n, "before", r.before());
            putNumber(n, "after", r.after());
            putNumber(n, "delta", r.delta());
        }
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render comparison JSON", e);
        }
    }

    /**
     * Renders the comparison as a Markdown table.
     *
     * @return the Markdown text
     */
    public String toMarkdown() {
        StringBuilder md = new StringBuilder("# Evaluation comparison\n\nBefore: `").append(before.model())
                .append("`  \nAfter: `").append(after.model()).append("`\n\n")
                .append("| task | metric | before | after | change |\n| --- | --- | ---: | ---: | ---: |\n");
        for (Row r : rows) {
            md.append("| ").append(r.task()).append(" | ").append(r.metric()).append(" | ").append(text(r.before()))
                    .append(" | ").append(text(r.after())).append(" | ").append(signed(r.delta())).append(" |\n");
        }
        return md.toString();
    }

    /**
     * Renders the comparison as a self-contained HTML page with a before/after chart of the task scores.
     *
     * @return the HTML text
     */
    public String toHtml() {
        StringBuilder body = new StringBuilder("<p>Before: <code>").append(Html.escape(before.model()))
                .append("</code><br>After: <code>").append(Html.escape(after.model())).append("</code></p>\n");
        byte[] chart = ReportCharts.comparison(before.results(), after.results());
        if (chart != null) {
            body.append(Html.images(Map.of("task scores before and after", chart)));
        }
        body.append("<table>\n<tr><th>task</th><th>metric</th><th>before</th><th>after</th><th>change</th></tr>\n");
        for (Row r : rows) {
            String cls = r.delta() > 0 ? "up" : r.delta() < 0 ? "down" : "";
            body.append("<tr><td>").append(Html.escape(r.task())).append("</td><td>").append(Html.escape(r.metric()))
                    .append("</td><td class=\"num\">").append(text(r.before())).append("</td><td class=\"num\">")
                    .append(text(r.after())).append("</td><td class=\"num ").append(cls).append("\">")
                    .append(signed(r.delta())).append("</td></tr>\n");
        }
        return Html.page("Evaluation comparison", body.append("</table>\n").toString());
    }

    /**
     * Writes {@code comparison.json}, {@code comparison.md} and {@code comparison.html}, each atomically.
     *
     * @param dir the folder, created when missing
     * @throws IOException when a file cannot be written
     */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("comparison.json"), toJson());
        AtomicFiles.writeString(dir.resolve("comparison.md"), toMarkdown());
        AtomicFiles.writeString(dir.resolve("comparison.html"), toHtml());
    }

    private static void putNumber(ObjectNode node, String key, double value) {
        if (Double.isNaN(value)) {
            node.putNull(key);
        } else {
            node.put(key, value);
        }
    }

    private static String text(double value) {
        return Double.isNaN(value) ? "–" : Html.number(value);
    }

    private static String signed(double value) {
        return Double.isNaN(value) ? "–" : (value > 0 ? "+" : "") + Html.number(value);
    }
}
