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
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llmkit.data.DataFormatException;

/**
 * Reads a split of a HuggingFace {@code datasets} export: JSON Lines as {@code Dataset.to_json}
 * writes them (one object per line, class labels as integers), or Parquet as the Hub stores
 * datasets ({@code super_glue/cb/validation-00000-of-00001.parquet}, the
 * {@code refs/convert/parquet} files, {@code Dataset.to_parquet}). A Parquet record becomes the
 * same {@link Row} its JSON Lines twin would, so every task loader maps both alike, and a bad row
 * is reported with the file and its 1-based row number.
 *
 * <p>Parquet is read with parquet-java ({@code org.apache.parquet:parquet-hadoop}) through
 * {@code ParquetFileReader} on a local file and page decompressors of llmkit's own (Snappy, ZSTD
 * and LZ4_RAW by aircompressor's pure-Java decoders, GZIP by the JDK), so no Hadoop code runs;
 * parquet-hadoop 1.18 still needs Hadoop's classes to be loadable, which the shaded
 * {@code hadoop-client-api} jar (19 MB, no further dependencies) provides. This was chosen over
 * DuckDB's JDBC driver, which reads Parquet too but is an 80 MB jar that unpacks a 72 MB native
 * library. Brotli, LZO and Hadoop-framed LZ4 pages are refused with an
 * {@link UnsupportedOperationException} naming the codec.
 *
 * <pre>{@code
 * List<HfExport.Row> rows = HfExport.read(Path.of("super_glue/cb/validation-00000-of-00001.parquet"));
 * String premise = rows.get(0).text("premise");
 * List<Path> shards = HfExport.files(Path.of("super_glue/cb"), "validation");
 * }</pre>
 */
public final class HfExport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfExport() { }

    /**
     * One record of an export: where it came from and its fields.
     *
     * @param file the file
     * @param line the 1-based line number of a JSON Lines file, or the 1-based row number of a
     *     Parquet file
     * @param fields the JSON object (for Parquet, the JSON {@code Dataset.to_json} would write)
     */
    public record Row(Path file, long line, JsonNode fields) {

        /**
         * Builds the error for this record: the message names the file and line, and for a Parquet
         * file says that the number is a row.
         *
         * @param reason {@link DataFormatException#MALFORMED} or {@link DataFormatException#MISSING_FIELD}
         * @param detail what is wrong
         * @return the exception, to throw
         */
        public DataFormatException error(String reason, String detail) {
            return new DataFormatException(file, line, reason, isParquet(file) ? "row " + line + ": " + detail : detail);
        }

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
                throw error(DataFormatException.MISSING_FIELD, "field '" + name
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
                throw error(DataFormatException.MISSING_FIELD, "field '" + name
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
                throw error(DataFormatException.MALFORMED, "label " + value
                        + " in field '" + name + "' is not one of 0.." + (labelNames.size() - 1) + " " + labelNames
                        + (value == -1 ? " (-1 marks an unlabelled test split; evaluate the validation split)" : ""));
            }
            return value;
        }
    }

    /**
     * Reads every record of one file of an export: JSON Lines (blank lines allowed) or, for a
     * {@code .parquet} file, every row of every row group in file order. Nothing is skipped.
     *
     * @param file a {@code .jsonl} or {@code .json} (JSON Lines) file, or a {@code .parquet} file
     * @return the rows, at least one
     * @throws DataFormatException naming file and line for a line that is not a JSON object, naming
     *     the file for a file that is not Parquet, or naming the file when it holds no records
     * @throws UnsupportedOperationException for Parquet pages compressed with a codec llmkit does not
     *     read (Brotli, LZO, Hadoop-framed LZ4)
     * @throws IOException when the file cannot be read
     */
    public static List<Row> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "HuggingFace export split not found");
        }
        List<Row> rows = isParquet(file) ? ParquetRows.read(file) : readJsonLines(file);
        if (rows.isEmpty()) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, "holds no records; the split is empty");
        }
        return rows;
    }

    /**
     * Reads every record of a split, shard after shard in shard order (see {@link #files}).
     *
     * @param dir the task's folder, for example {@code super_glue/cb}
     * @param split the split, for example {@code validation}
     * @return the rows of all its files, at least one per file
     * @throws NoSuchFileException when the split has no file
     * @throws DataFormatException as {@link #read} does, or naming a shard that is missing
     * @throws IOException when a file cannot be read
     */
    public static List<Row> readSplit(Path dir, String split) throws IOException {
        List<Path> files = files(dir, split);
        if (files.isEmpty()) {
            throw new NoSuchFileException(dir.resolve(split + ".jsonl").toString(), null, "split '" + split
                    + "' not found; expected a HuggingFace export: " + split + ".jsonl, " + split + ".parquet, "
                    + split + "-00000-of-0000N.parquet shards or " + split + "/*.parquet");
        }
        List<Row> rows = new ArrayList<>();
        for (Path file : files) {
            rows.addAll(read(file));
        }
        return rows;
    }

    private static List<Row> readJsonLines(Path file) throws IOException {
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
        return rows;
    }

    /**
     * Finds a split's first file in a task folder (see {@link #files}).
     *
     * @param dir the task's folder, for example {@code super_glue/cb}
     * @param split the split, for example {@code validation}
     * @return the file, if present
     * @throws IOException when the folder cannot be listed, or its shards are incomplete
     */
    public static Optional<Path> find(Path dir, String split) throws IOException {
        return files(dir, split).stream().findFirst();
    }

    /**
     * Lists a split's files in a task folder, in reading order. The first layout present wins:
     * {@code <split>.jsonl}; {@code <split>.json}; {@code <split>.parquet}; the Hub's shards
     * {@code <split>-00000-of-00002.parquet}, {@code <split>-00001-of-00002.parquet} (ordered by shard
     * index, and all of them must be there); or the {@code refs/convert/parquet} layout
     * {@code <split>/0000.parquet}, {@code <split>/0001.parquet} (ordered by name).
     *
     * @param dir the task's folder, for example {@code super_glue/cb}
     * @param split the split, for example {@code validation}
     * @return the files, empty when the split is absent
     * @throws DataFormatException naming the folder when a shard is missing or shards disagree on
     *     their count
     * @throws IOException when the folder cannot be listed
     */
    public static List<Path> files(Path dir, String split) throws IOException {
        for (String ext : List.of(".jsonl", ".json", ".parquet")) {
            Path p = dir.resolve(split + ext);
            if (Files.isRegularFile(p)) {
                return List.of(p);
            }
        }
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> shards = shards(dir, split);
        if (!shards.isEmpty()) {
            return shards;
        }
        Path folder = dir.resolve(split);
        List<Path> parts = new ArrayList<>();
        if (Files.isDirectory(folder)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(folder, "*.parquet")) {
                s.forEach(parts::add);
            }
            parts.sort(Comparator.comparing(p -> p.getFileName().toString()));
        }
        return parts;
    }

    private static List<Path> shards(Path dir, String split) throws IOException {
        Pattern name = Pattern.compile(Pattern.quote(split) + "-(\\d+)-of-(\\d+)\\.parquet");
        TreeMap<Integer, Path> byIndex = new TreeMap<>();
        int total = -1;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, split + "-*.parquet")) {
            for (Path p : s) {
                Matcher m = name.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    throw new DataFormatException(p, 0, DataFormatException.MALFORMED, "not named like a shard of split '"
                            + split + "' (" + split + "-00000-of-00002.parquet); rename or move it");
                }
                int of = Integer.parseInt(m.group(2));
                if (total != -1 && of != total) {
                    throw new DataFormatException(p, 0, DataFormatException.MALFORMED, "says the split has " + of
                            + " shards, another shard in " + dir + " says " + total);
                }
                total = of;
                byIndex.put(Integer.parseInt(m.group(1)), p);
            }
        }
        for (int i = 0; i < Math.max(total, 0); i++) {
            if (!byIndex.containsKey(i)) {
                throw new DataFormatException(dir, 0, DataFormatException.MALFORMED, String.format(
                        "shard %s-%05d-of-%05d.parquet of split '%s' is missing (found %d of %d shards)",
                        split, i, total, split, byIndex.size(), total));
            }
        }
        if (byIndex.size() > Math.max(total, 0)) {
            throw new DataFormatException(byIndex.lastEntry().getValue(), 0, DataFormatException.MALFORMED,
                    "shard index " + byIndex.lastKey() + " is beyond the " + total + " shards of split '" + split + "'");
        }
        return new ArrayList<>(byIndex.values());
    }

    static boolean isParquet(Path file) {
        return file.getFileName().toString().endsWith(".parquet");
    }
}
