package org.llmkit.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.llmkit.api.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a pipeline run did, stage by stage. Every document read is either out or dropped with a
 * reason: {@code documentsIn() == documentsOut() + documentsDropped()}, and each stage's drops add
 * up to its {@code in - out}. The first stage, {@code read}, counts the source's records, and drops
 * malformed ones when the pipeline skips them.
 *
 * <p>{@link #writeTo(Path)} writes {@code report.json}, {@code report.md} and, when documents
 * were tokenized, {@code token-lengths.png}. Immutable.
 */
public final class PipelineReport {

    /** The report file names. */
    public static final String JSON_FILE = "report.json";
    /** The Markdown report file name. */
    public static final String MARKDOWN_FILE = "report.md";
    /** The token-length histogram chart file name. */
    public static final String CHART_FILE = "token-lengths.png";

    /**
     * One histogram bin of tokens per document.
     *
     * @param from smallest token count in the bin, inclusive
     * @param to largest token count, exclusive
     * @param documents documents in the bin
     */
    public record Bin(long from, long to, long documents) {
    }

    private final String source;
    private final List<StageReport> stages;
    private final List<Bin> tokenHistogram;
    private final Map<String, Object> outputs;
    private final List<String> problems;
    private final double seconds;

    /**
     * Creates a report; for execution backends other than the in-process {@link Pipeline}
     * (llm-spark), which must count exactly as it does.
     *
     * @param source the source description
     * @param stages the stages in order, {@code read} first
     * @param tokenHistogram tokens per document, in increasing bins; empty without tokenization
     * @param outputs what was written, per output
     * @param problems the first malformed records skipped (at most 100 are kept)
     * @param seconds the wall-clock time of the run
     * @return the report
     * @throws IllegalArgumentException when there is no stage
     */
    public static PipelineReport of(String source, List<StageReport> stages, List<Bin> tokenHistogram,
                                    Map<String, Object> outputs, List<String> problems, double seconds) {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least the read stage");
        }
        return new PipelineReport(source, stages, tokenHistogram, outputs,
                problems.size() > 100 ? problems.subList(0, 100) : problems, seconds);
    }

    PipelineReport(String source, List<StageReport> stages, List<Bin> tokenHistogram, Map<String, Object> outputs,
                   List<String> problems, double seconds) {
        this.source = source;
        this.stages = List.copyOf(stages);
        this.tokenHistogram = List.copyOf(tokenHistogram);
        this.outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
        this.problems = List.copyOf(problems);
        this.seconds = seconds;
    }

    /**
     * Returns the source description.
     *
     * @return for example {@code jsonl[dump.jsonl] text field "text"}
     */
    public String source() {
        return source;
    }

    /**
     * Returns the stages in order, {@code read} first.
     *
     * @return an unmodifiable list
     */
    public List<StageReport> stages() {
        return stages;
    }

    /**
     * Returns a stage's report.
     *
     * @param name the stage name
     * @return the report
     * @throws IllegalArgumentException when no stage has that name; the message lists the names
     */
    public StageReport stage(String name) {
        for (StageReport stage : stages) {
            if (stage.name().equals(name)) {
                return stage;
            }
        }
        throw new IllegalArgumentException("no stage \"" + name + "\"; stages are "
                + stages.stream().map(StageReport::name).toList());
    }

    /**
     * Returns one count of a stage.
     *
     * @param stageName the stage, for example {@code dedup}
     * @param key {@code in}, {@code out}, {@code dropped}, or a drop reason such as {@code duplicate}
     * @return the count (0 for a reason that never occurred)
     * @throws IllegalArgumentException when no stage has that name
     */
    public long count(String stageName, String key) {
        StageReport stage = stage(stageName);
        return switch (key) {
            case "in" -> stage.in();
            case "out" -> stage.out();
            case "dropped" -> stage.dropped();
            default -> stage.droppedByReason().getOrDefault(key, 0L);
        };
    }

    /**
     * Returns the number of records the source produced, malformed ones included.
     *
     * @return documents in
     */
    public long documentsIn() {
        return stages.get(0).in();
    }

    /**
     * Returns the number of documents that came out of the last stage.
     *
     * @return documents out
     */
    public long documentsOut() {
        return stages.get(stages.size() - 1).out();
    }

    /**
     * Returns the number of documents dropped by all stages together.
     *
     * @return documents dropped
     */
    public long documentsDropped() {
        return stages.stream().mapToLong(StageReport::dropped).sum();
    }

    /**
     * Returns dropped documents by {@code stage/reason}.
     *
     * @return an ordered map, for example {@code dedup/duplicate -> 12}
     */
    public Map<String, Long> droppedByReason() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (StageReport stage : stages) {
            stage.droppedByReason().forEach((reason, n) -> all.put(stage.name() + "/" + reason, n));
        }
        return all;
    }

    /**
     * Returns the share of documents read that exact and near dedup dropped.
     *
     * @return a fraction in [0, 1]
     */
    public double dedupRate() {
        long dropped = 0;
        for (StageReport stage : stages) {
            if (stage.name().equals("dedup") || stage.name().equals("near_dedup")) {
                dropped += stage.dropped();
            }
        }
        return documentsIn() == 0 ? 0 : (double) dropped / documentsIn();
    }

    /**
     * Returns the detected languages of the documents the language stage saw.
     *
     * @return ISO 639-1 code (or {@code unknown}) to count; empty without a language stage
     */
    @SuppressWarnings("unchecked")
    public Map<String, Long> languageDistribution() {
        for (StageReport stage : stages) {
            if (stage.name().equals("language")) {
                return (Map<String, Long>) stage.details().get("distribution");
            }
        }
        return Map.of();
    }

    /**
     * Returns the histogram of tokens per tokenized document.
     *
     * @return bins in increasing order; empty without tokenization
     */
    public List<Bin> tokenHistogram() {
        return tokenHistogram;
    }

    /**
     * Returns what was written: per output (documents, train, validation), its files and counts.
     *
     * @return an ordered map
     */
    public Map<String, Object> outputs() {
        return outputs;
    }

    /**
     * Returns the first malformed records skipped, as {@code file:line: problem} (at most 100).
     *
     * @return the messages
     */
    public List<String> problems() {
        return problems;
    }

    /**
     * Returns the wall-clock time of the run.
     *
     * @return seconds
     */
    public double seconds() {
        return seconds;
    }

    /**
     * Returns the report as JSON.
     *
     * @return a JSON object
     */
    public JsonNode toJson() {
        ObjectNode root = TokenShardWriter.JSON.createObjectNode();
        root.put("source", source);
        root.put("documents_in", documentsIn());
        root.put("documents_out", documentsOut());
        root.put("documents_dropped", documentsDropped());
        root.put("dedup_rate", dedupRate());
        root.put("seconds", seconds);
        root.put("documents_per_second", seconds > 0 ? documentsIn() / seconds : 0);
        ArrayNode list = root.putArray("stages");
        for (StageReport stage : stages) {
            ObjectNode node = list.addObject();
            node.put("name", stage.name());
            node.put("in", stage.in());
            node.put("out", stage.out());
            node.put("dropped", stage.dropped());
            node.set("dropped_by_reason", TokenShardWriter.JSON.valueToTree(stage.droppedByReason()));
            node.put("seconds", stage.seconds());
            node.set("details", TokenShardWriter.JSON.valueToTree(stage.details()));
        }
        root.set("language_distribution", TokenShardWriter.JSON.valueToTree(languageDistribution()));
        root.set("token_histogram", TokenShardWriter.JSON.valueToTree(tokenHistogram));
        root.set("outputs", TokenShardWriter.JSON.valueToTree(outputs));
        root.set("problems", TokenShardWriter.JSON.valueToTree(problems));
        return root;
    }

    /**
     * Returns the report as Markdown: a summary line, the stage table with drop reasons, the
     * language distribution, the token-length histogram, the outputs and the problems.
     *
     * @return Markdown text
     */
    public String toMarkdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Pipeline report\n\n");
        md.append("Source: `").append(source).append("`\n\n");
        md.append(String.format(Locale.ROOT, "Documents: %,d in, %,d out, %,d dropped; dedup rate %.2f%%; %.1f s (%,.0f documents/s)%n%n",
                documentsIn(), documentsOut(), documentsDropped(), 100 * dedupRate(), seconds,
                seconds > 0 ? documentsIn() / seconds : 0));
        md.append("| stage | in | out | dropped | reasons | seconds |\n|---|---:|---:|---:|---|---:|\n");
        for (StageReport stage : stages) {
            List<String> reasons = new ArrayList<>();
            stage.droppedByReason().forEach((reason, n) -> reasons.add(String.format(Locale.ROOT, "%s: %,d", reason, n)));
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %s | %.2f |%n", stage.name(), stage.in(), stage.out(),
                    stage.dropped(), String.join(", ", reasons), stage.seconds()));
        }
        if (!languageDistribution().isEmpty()) {
            md.append("\n## Languages\n\n| language | documents |\n|---|---:|\n");
            languageDistribution().entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> md.append(String.format(Locale.ROOT, "| %s | %,d |%n", e.getKey(), e.getValue())));
        }
        if (!tokenHistogram.isEmpty()) {
            md.append("\n## Tokens per document\n\n![token lengths](").append(CHART_FILE)
                    .append(")\n\n| tokens | documents |\n|---|---:|\n");
            for (Bin bin : tokenHistogram) {
                md.append(String.format(Locale.ROOT, "| %,d–%,d | %,d |%n", bin.from(), bin.to() - 1, bin.documents()));
            }
        }
        if (!outputs.isEmpty()) {
            md.append("\n## Outputs\n\n");
            outputs.forEach((name, value) -> md.append("- ").append(name).append(": ").append(value).append('\n'));
        }
        if (!problems.isEmpty()) {
            md.append("\n## Skipped records (first ").append(problems.size()).append(")\n\n");
            problems.forEach(p -> md.append("- ").append(p).append('\n'));
        }
        return md.toString();
    }

    /**
     * Writes {@code report.json}, {@code report.md} and, with a token histogram,
     * {@code token-lengths.png} into a folder, each atomically.
     *
     * @param folder an existing folder
     * @throws IOException when writing fails
     */
    public void writeTo(Path folder) throws IOException {
        AtomicFiles.writeString(folder.resolve(JSON_FILE), TokenShardWriter.JSON.writeValueAsString(toJson()) + "\n");
        AtomicFiles.writeString(folder.resolve(MARKDOWN_FILE), toMarkdown());
        if (!tokenHistogram.isEmpty()) {
            CategoryChart chart = new CategoryChartBuilder().width(800).height(480)
                    .title("Tokens per document").xAxisTitle("tokens").yAxisTitle("documents").build();
            chart.getStyler().setLegendVisible(false);
            List<String> labels = new ArrayList<>();
            List<Long> counts = new ArrayList<>();
            for (Bin bin : tokenHistogram) {
                labels.add(bin.from() + "-" + (bin.to() - 1));
                counts.add(bin.documents());
            }
            chart.addSeries("documents", labels, counts);
            AtomicFiles.writeStream(folder.resolve(CHART_FILE),
                    out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        }
    }

    @Override
    public String toString() {
        return "PipelineReport[" + documentsIn() + " in, " + documentsOut() + " out, " + documentsDropped() + " dropped]";
    }
}
