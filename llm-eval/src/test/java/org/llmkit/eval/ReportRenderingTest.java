package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportRenderingTest {

    private static EvalReport report(String model, double acc, double f1, boolean withCola) {
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        results.put("perplexity", Map.of("perplexity", 12.5, "tokens", 4096.0));
        results.put("mrpc", new LinkedHashMap<>(Map.of("acc", acc, "f1", f1, "examples", 408.0)));
        if (withCola) {
            results.put("cola", Map.of("mcc", 0.31, "examples", 1043.0));
        }
        Map<String, Double> tox = new LinkedHashMap<>();
        for (int b = 0; b < 10; b++) {
            tox.put(String.format(java.util.Locale.ROOT, "hist_%.1f_%.1f", b / 10.0, (b + 1) / 10.0), b < 2 ? 0.5 : 0.0);
        }
        results.put("toxicity", tox);
        results.put("latency", Map.of("ttft_p50_ms", 20.0, "ttft_p95_ms", 30.0, "ttft_p99_ms", 31.0,
                "e2e_p50_ms", 200.0, "e2e_p95_ms", 260.0, "e2e_p99_ms", 270.0));
        return new EvalReport(model, results);
    }

    @Test
    void writeToProducesJsonMarkdownHtmlAndPngChartsAtomically(@TempDir Path dir) throws Exception {
        EvalReport r = report("/models/<tiny>", 0.5, 0.6, true);
        r.writeTo(dir);
        for (String name : new String[] {"task-scores", "toxicity", "latency"}) {
            byte[] png = Files.readAllBytes(dir.resolve("charts/" + name + ".png"));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertThat(image.getWidth()).as(name).isEqualTo(800);
            assertThat(image.getHeight()).as(name).isEqualTo(420);
        }
        assertThat(r.charts().keySet()).containsExactly("task-scores", "toxicity", "latency");
        String html = Files.readString(dir.resolve("report.html"));
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<code>/models/&lt;tiny&gt;</code>")
                .contains("<h2>mrpc</h2>").contains("<td class=\"num\">0.6000</td>")
                .doesNotContain("http://").doesNotContain("https://");
        assertThat(html.split("data:image/png;base64,", -1)).hasSize(4);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertThat(json.get("format").asText()).isEqualTo("llmkit-eval-report");
        assertThat(json.get("results").get("mrpc").get("f1").asDouble()).isEqualTo(0.6);
        assertThat(Files.readString(dir.resolve("report.md"))).contains("| mrpc | f1 | 0.6000 |");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("report.json", "report.md", "report.html", "charts");
        }
    }

    @Test
    void comparisonPutsBothReportsSideBySideWithTheChange(@TempDir Path dir) throws Exception {
        EvalReport before = report("base", 0.5, 0.6, true);
        EvalReport after = report("tuned", 0.75, 0.55, false);
        ReportComparison c = EvalReport.compare(before, after);
        assertThat(c.row("mrpc", "acc").delta()).isEqualTo(0.25);
        assertThat(c.row("mrpc", "f1").delta()).isCloseTo(-0.05, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(c.row("cola", "mcc").after()).isNaN();
        assertThatThrownBy(() -> c.row("mrpc", "bleu")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither report has mrpc/bleu");
        assertThat(c.toMarkdown()).contains("| mrpc | acc | 0.5000 | 0.7500 | +0.2500 |")
                .contains("| cola | mcc | 0.3100 | – | – |");
        c.writeTo(dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("comparison.json").toFile());
        assertThat(json.get("format").asText()).isEqualTo("llmkit-eval-comparison");
        assertThat(json.get("before").asText()).isEqualTo("base");
        JsonNode colaRow = null;
        for (JsonNode row : json.get("rows")) {
            colaRow = row.get("task").asText().equals("cola") && row.get("metric").asText().equals("mcc") ? row : colaRow;
        }
        assertThat(colaRow.get("before").asDouble()).isEqualTo(0.31);
        assertThat(colaRow.get("after").isNull()).isTrue();
        String html = Files.readString(dir.resolve("comparison.html"));
        assertThat(html).contains("class=\"num up\">+0.2500").contains("class=\"num down\">-0.0500")
                .contains("data:image/png;base64,");
    }
}
