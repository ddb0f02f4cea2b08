package org.llmkit.data;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A CSV or TSV file with a header row (RFC 4180 quoting), optionally gzip- or zstd-compressed. The
 * text column becomes {@link Document#text()}, the other columns metadata (strings); the id is
 * {@code <file name>:<line>} where the record starts. A record whose number of fields differs from
 * the header's is a {@link DataFormatException} ({@link DataFormatException#MALFORMED}). Immutable.
 */
public final class CsvDataset implements Dataset {

    private final Path file;
    private final String textColumn;
    private final char delimiter;

    CsvDataset(Path file, String textColumn, char delimiter) {
        this.file = Objects.requireNonNull(file, "file must not be null");
        Objects.requireNonNull(textColumn, "textColumn must not be null");
        if (textColumn.isBlank()) {
            throw new IllegalArgumentException("textColumn must not be blank");
        }
        this.textColumn = textColumn;
        this.delimiter = delimiter;
    }

    @Override
    public DocumentStream open() throws IOException {
        SourceFiles.check(file);
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(delimiter)
                .setHeader()
                .setSkipHeaderRecord(true)
                .setAllowMissingColumnNames(true)
                .get();
        CSVParser parser;
        try {
            parser = CSVParser.builder().setReader(SourceFiles.openReader(file)).setFormat(format).get();
        } catch (IOException | IllegalArgumentException | UncheckedIOException e) {
            throw new DataFormatException(file, 1, DataFormatException.MALFORMED, "bad header row: " + e.getMessage());
        }
        List<String> header = parser.getHeaderNames();
        if (!header.contains(textColumn)) {
            parser.close();
            throw new DataFormatException(file, 1, DataFormatException.MISSING_FIELD,
                    "no column \"" + textColumn + "\" in the header row; columns are " + header);
        }
        return new Stream(parser, header);
    }

    @Override
    public String describe() {
        return (delimiter == '\t' ? "tsv[" : "csv[") + file + "] text column \"" + textColumn + "\"";
    }

    private final class Stream implements DocumentStream {
        private final CSVParser parser;
        private final List<String> header;
        private final Iterator<CSVRecord> records;
        private long returned;

        Stream(CSVParser parser, List<String> header) {
            this.parser = parser;
            this.header = header;
            this.records = parser.iterator();
        }

        @Override
        public Document next() throws IOException {
            CSVRecord record;
            try {
                if (!records.hasNext()) {
                    if (returned == 0) {
                        throw new DataFormatException(file, 0, DataFormatException.MALFORMED,
                                "file has a header row but no records");
                    }
                    return null;
                }
                record = records.next();
            } catch (UncheckedIOException e) {
                throw new DataFormatException(file, parser.getCurrentLineNumber(), DataFormatException.MALFORMED,
                        "unreadable CSV: " + e.getCause().getMessage());
            }
            returned++;
            long line = parser.getCurrentLineNumber();
            if (record.size() != header.size()) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                        "record has " + record.size() + " fields, the header has " + header.size());
            }
            Map<String, Object> metadata = new LinkedHashMap<>();
            String text = null;
            for (int i = 0; i < header.size(); i++) {
                if (header.get(i).equals(textColumn)) {
                    text = record.get(i);
                } else {
                    metadata.put(header.get(i), record.get(i));
                }
            }
            return Document.of(file.getFileName() + ":" + line, text, metadata);
        }

        @Override
        public void close() throws IOException {
            parser.close();
        }
    }
}
