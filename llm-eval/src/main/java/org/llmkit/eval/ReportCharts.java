package org.llmkit.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** PNG bar charts of a report's sections, drawn headless with XChart. */
final class ReportCharts {
    /** Sections that are not tasks with 0-1 scores: they get charts of their own, or none. */
    private static final Set<String> NOT_SCORES = Set.of(Evaluator.PERPLEXITY, Evaluator.GLUE, Evaluator.TOXICITY,
            Evaluator.BIAS, Evaluator.LATENCY, Evaluator.HUMAN);
    private static final int WIDTH = 800;
    private static final int HEIGHT = 420;

    private ReportCharts() { }

    /** Chart file name (without {@code .png}) to PNG bytes; sections without data get no chart. */
    static Map<String, byte[]> of(Map<String, Map<String, Double>> results) {
        Map<String, byte[]> charts = new LinkedHashMap<>();
        Map<String, Double> scores = taskScores(results);
        if (!scores.isEmpty()) {
            charts.put("task-scores", png(bars("Task scores", "score", Map.of("value", scores))));
        }
        Map<String, Double> tox = results.get(Evaluator.TOXICITY);
        if (tox != null) {
            charts.put("toxicity", png(bars("Toxicity of continuations", "share of continuations",
                    Map.of("share", prefixed(tox, "hist_")))));
        }
        Map<String, Double> latency = results.get(Evaluator.LATENCY);
        if (latency != null) {
            Map<String, Double> ttft = new LinkedHashMap<>();
            Map<String, Double> e2e = new LinkedHashMap<>();
            for (String p : List.of("p50", "p95", "p99")) {
                ttft.put(p, latency.get("ttft_" + p + "_ms"));
                e2e.put(p, latency.get("e2e_" + p + "_ms"));
            }
            Map<String, Map<String, Double>> series = new LinkedHashMap<>();
            series.put("time to first token", ttft);
            series.put("end to end", e2e);
            charts.put("latency", png(bars("Latency", "milliseconds", series)));
        }
        Map<String, Double> human = results.get(Evaluator.HUMAN);
        if (human != null) {
            charts.put("human-ratings", png(bars("Human ratings", "ratings", Map.of("count", prefixed(human, "score_")))));
        }
        return charts;
    }

    /** A before/after chart of the task scores two reports share. */
    static byte[] comparison(Map<String, Map<String, Double>> before, Map<String, Map<String, Double>> after) {
        Map<String, Double> b = taskScores(before);
        Map<String, Double> a = taskScores(after);
        b.keySet().retainAll(a.keySet());
        a.keySet().retainAll(b.keySet());
        if (b.isEmpty()) {
            return null;
        }
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        series.put("before", b);
        series.put("after", a);
        return png(bars("Task scores, before and after", "score", series));
    }

    /** {@code task/metric} to value, for the metrics of tasks (not probes), counts left out. */
    static Map<String, Double> taskScores(Map<String, Map<String, Double>> results) {
        Map<String, Double> out = new LinkedHashMap<>();
        results.forEach((task, metrics) -> {
            if (!NOT_SCORES.contains(task)) {
                metrics.forEach((name, value) -> {
                    if (!name.equals("examples") && !value.isNaN()) {
                        out.put(task + "/" + name, value);
                    }
                });
            }
        });
        return out;
    }

    private static Map<String, Double> prefixed(Map<String, Double> metrics, String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        metrics.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static CategoryChart bars(String title, String yTitle, Map<String, Map<String, Double>> series) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle)
                .build();
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisLabelRotation(series.values().iterator().next().size() > 6 ? 45 : 0);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        series.forEach((name, values) -> chart.addSeries(name, new ArrayList<>(values.keySet()),
                new ArrayList<Number>(values.values())));
        return chart;
    }

    private static byte[] png(CategoryChart chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw chart '" + chart.getTitle() + "'", e);
        }
    }
}
