package org.llmkit.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.data.DataFormatException;

/**
 * Reads a file in the official GLUE TSV layout: UTF-8, a header row, tab-separated fields with no
 * quoting (quotes are ordinary characters, as GLUE's own reader uses {@code quoting=QUOTE_NONE}).
 */
final class GlueTsv {
    private GlueTsv() { }

    /** One data row: its 1-based line number and its fields by header name. */
    record Row(long line, Map<String, String> fields) {
        String get(String column) {
            return fields.get(column);
        }
    }

    static List<Row> read(Path file, String... requiredColumns) throws IOException {
        List<String> lines = lines(file);
        if (lines.isEmpty()) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, "the file is empty; expected a header row");
        }
        return rows(file, lines.get(0).replace("\uFEFF", "").split("\t", -1), lines, 1, requiredColumns);
    }

    /** Reads a file without a header row (CoLA's train/dev), naming its columns. */
    static List<Row> readHeaderless(Path file, String... columns) throws IOException {
        return rows(file, columns, lines(file), 0, columns);
    }

    private static List<String> lines(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null,
                    "GLUE split file not found; expected the official layout (e.g. MRPC/dev.tsv)");
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    private static List<Row> rows(Path file, String[] header, List<String> lines, int first,
            String... requiredColumns) throws DataFormatException {
        List<String> columns = Arrays.asList(header);
        for (String required : requiredColumns) {
            if (!columns.contains(required)) {
                throw new DataFormatException(file, 1, DataFormatException.MISSING_FIELD,
                        "the header lacks column '" + required + "'; found " + columns);
            }
        }
        List<Row> rows = new ArrayList<>(lines.size());
        for (int i = first; i < lines.size(); i++) {
            if (lines.get(i).isEmpty() && i == lines.size() - 1) {
                break;   // a trailing blank line
            }
            String[] fields = lines.get(i).split("\t", -1);
            if (fields.length != header.length) {
                throw new DataFormatException(file, i + 1, DataFormatException.MALFORMED, "has " + fields.length
                        + " tab-separated field(s), " + (first == 1 ? "the header has " + header.length
                        : "expected " + header.length + " " + Arrays.toString(header)));
            }
            Map<String, String> byName = new LinkedHashMap<>();
            for (int c = 0; c < header.length; c++) {
                byName.put(header[c], fields[c]);
            }
            rows.add(new Row(i + 1, byName));
        }
        if (rows.isEmpty()) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, first == 1 ? "has a header but no data rows" : "has no data rows");
        }
        return rows;
    }

    /** A numeric field, or a DataFormatException naming the line. */
    static double number(Path file, Row row, String column) throws DataFormatException {
        try {
            return Double.parseDouble(row.get(column).trim());
        } catch (NumberFormatException e) {
            throw new DataFormatException(file, row.line(), DataFormatException.MALFORMED,
                    "column '" + column + "' holds '" + row.get(column) + "', not a number");
        }
    }

    /** The index of {@code value} in {@code labels}, or a DataFormatException naming the line. */
    static int label(Path file, Row row, String column, List<String> labels) throws DataFormatException {
        int index = labels.indexOf(row.get(column));
        if (index < 0) {
            throw new DataFormatException(file, row.line(), DataFormatException.MALFORMED,
                    "label '" + row.get(column) + "' in column '" + column + "' is not one of " + labels);
        }
        return index;
    }
}
