package org.llmkit.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.llmkit.data.DataFormatException;

/**
 * Reads a split of a HuggingFace {@code datasets} export: JSON Lines as {@code Dataset.to_json}
 * writes them (one object per line, class labels as integers). Parquet exports (the Hub's
 * {@code refs/convert/parquet} files) are recognised but not read: the Java Parquet readers on Maven
 * Central either pull in Hadoop ({@code parquet-hadoop}, {@code parquet-avro}) or need Java 21
 * ({@code hardwood-core}), and llmkit targets Java 17 with few dependencies; convert them with
 * {@code datasets.load_dataset("parquet", ...).to_json(...)}.
 *
 * <pre>{@code
 * List<HfExport.Row> rows = HfExport.read(Path.of("super_glue/cb/validation.jsonl"));
 * String premise = rows.get(0).text("premise");
 * }</pre>
 */
public final class HfExport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfExport() { }

    /**
     * One record of an export: where it came from and its fields.
     *
     * @param file the file
     * @param line the 1-based line number
     * @param fields the JSON object
     */
    public record Row(Path file, long line, JsonNode fields) {

        /**
         * Returns a string field.
         *
         * @param name the field
         * @return its text
         * @throws DataFormatException naming file, line and field when it is missing or not a string
         */
        public String text(String name) throws DataFormatException {
            JsonNode v = fields.get(name);
            if (v == null || !v.isTextual()) {
                throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD, "field '" + name
                        + "' is " + (v == null ? "missing" : "not a string but " + v.getNodeType()));
            }
            return v.asText();
        }

        /**
         * Returns an integer field.
         *
         * @param name the field
         * @return its value
         * @throws DataFormatException naming file, line and field when it is missing or not an integer
         */
        public int integer(String name) throws DataFormatException {
            JsonNode v = fields.get(name);
            if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
                throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD, "field '" + name
                        + "' is " + (v == null ? "missing" : "not an integer but " + v));
            }
            return v.asInt();
        }

        /**
         * Returns a class label, checked against the task's label names.
         *
         * @param name the field, usually {@code label}
         * @param labelNames the names of labels {@code 0..n-1}, for the message
         * @return the label in {@code [0, n)}
         * @throws DataFormatException naming file and line when the label is outside the set ({@code -1}
         *     marks an unlabelled test split)
         */
        public int label(String name, List<String> labelNames) throws DataFormatException {
            int value = integer(name);
            if (value < 0 || value >= labelNames.size()) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED, "label " + value
                        + " in field '" + name + "' is not one of 0.." + (labelNames.size() - 1) + " " + labelNames
                        + (value == -1 ? " (-1 marks an unlabelled test split; evaluate the validation split)" : ""));
            }
            return value;
        }
    }

    /**
     * Reads every record of a JSON Lines file; blank lines are allowed, nothing else is skipped.
     *
     * @param file a {@code .jsonl} or {@code .json} (JSON Lines) file
     * @return the rows, at least one
     * @throws DataFormatException naming file and line for a line that is not a JSON object, or
     *     naming the file when it holds no records
     * @throws UnsupportedOperationException for a {@code .parquet} file
     * @throws IOException when the file cannot be read
     */
    public static List<Row> read(Path file) throws IOException {
        if (file.getFileName().toString().endsWith(".parquet")) {
            throw new UnsupportedOperationException("reading Parquet (" + file + ") is not supported: the Java Parquet"
                    + " readers need Hadoop or Java 21; export the split as JSON Lines"
                    + " (datasets: ds.to_json(\"validation.jsonl\")) and point llmkit at that");
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "HuggingFace export split not found");
        }
        List<Row> rows = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long number = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new DataFormatException(file, number, DataFormatException.MALFORMED,
                            "not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) {
                    throw new DataFormatException(file, number, DataFormatException.MALFORMED,
                            "expected a JSON object per line, found " + (node == null ? "nothing" : node.getNodeType()));
                }
                rows.add(new Row(file, number, node));
            }
        }
        if (rows.isEmpty()) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, "holds no records; the split is empty");
        }
        return rows;
    }

    /**
     * Finds a split's file in a task folder: {@code <split>.jsonl}, {@code <split>.json}, or a Parquet
     * file named {@code <split>.parquet} / {@code <split>-*.parquet} (which {@link #read} refuses with
     * the reason).
     *
     * @param dir the task's folder, for example {@code super_glue/cb}
     * @param split the split, for example {@code validation}
     * @return the file, if present
     * @throws IOException when the folder cannot be listed
     */
    public static Optional<Path> find(Path dir, String split) throws IOException {
        for (String ext : List.of(".jsonl", ".json", ".parquet")) {
            Path p = dir.resolve(split + ext);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, split + "-*.parquet")) {
                for (Path p : s) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
