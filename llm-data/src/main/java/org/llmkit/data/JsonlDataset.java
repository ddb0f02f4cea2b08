package org.llmkit.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * JSON Lines files: one JSON object per line. The text field (default {@code "text"}) becomes
 * {@link Document#text()}, the id field (default {@code "id"}) {@link Document#id()} when present
 * (else {@code <file name>:<line>}), every other field the metadata.
 *
 * <p>A line that is not a JSON object is a {@link DataFormatException} with reason
 * {@link DataFormatException#MALFORMED}; a record without the text field, or whose text field is not
 * a string, one with reason {@link DataFormatException#MISSING_FIELD}. Both name the file and line.
 * Immutable: {@link #textField(String)} and {@link #idField(String)} return new datasets.
 */
public final class JsonlDataset implements FileDataset {

    static final String DEFAULT_TEXT_FIELD = "text";
    static final String DEFAULT_ID_FIELD = "id";

    private static final ObjectReader READER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .readerFor(new TypeReference<LinkedHashMap<String, Object>>() { });

    private final List<Path> paths;
    private final String textField;
    private final String idField;

    JsonlDataset(List<Path> paths, String textField, String idField) {
        this.paths = paths;
        this.textField = textField;
        this.idField = idField;
    }

    /**
     * Returns this dataset reading the text from another field.
     *
     * @param field the field name; not blank
     * @return the new dataset
     */
    public JsonlDataset textField(String field) {
        requireField(field, "textField");
        return new JsonlDataset(paths, field, idField);
    }

    /**
     * Returns this dataset reading document ids from another field.
     *
     * @param field the field name; not blank
     * @return the new dataset
     */
    public JsonlDataset idField(String field) {
        requireField(field, "idField");
        return new JsonlDataset(paths, textField, field);
    }

    private static void requireField(String field, String option) {
        Objects.requireNonNull(field, option + " must not be null");
        if (field.isBlank()) {
            throw new IllegalArgumentException(option + " must not be blank");
        }
    }

    @Override
    public DocumentStream open() throws IOException {
        return SourceFiles.concat(files(), format());
    }

    @Override
    public List<FileDataset.SourceFile> files() throws IOException {
        return SourceFiles.sourceFiles(paths, false);
    }

    @Override
    public FileDataset.FileFormat format() {
        return new Format(textField, idField);
    }

    @Override
    public boolean recursive() {
        return false;
    }

    @Override
    public String describe() {
        return "jsonl" + paths + " text field \"" + textField + "\"";
    }

    /** One JSON Lines file: the text and id fields. */
    private record Format(String textField, String idField) implements FileDataset.FileFormat {
        private static final long serialVersionUID = 1L;

        @Override
        public DocumentStream read(Path file, String fileId, InputStream raw) throws IOException {
            return new FileStream(file, fileId, SourceFiles.reader(raw), textField, idField);
        }
    }

    private static final class FileStream implements DocumentStream {
        private final Path file;
        private final String fileId;
        private final String textField;
        private final String idField;
        private final SourceLines lines;
        private long records;
        private boolean ended;

        FileStream(Path file, String fileId, BufferedReader reader, String textField, String idField) {
            this.file = file;
            this.fileId = fileId;
            this.lines = new SourceLines(file, reader);
            this.textField = textField;
            this.idField = idField;
        }

        @Override
        public Document next() throws IOException {
            String text = lines.next();
            if (text == null) {
                boolean first = !ended;
                ended = true;
                if (first && records == 0) {
                    throw new DataFormatException(file, 0, DataFormatException.MALFORMED,
                            "file holds no JSON records (only blank lines)");
                }
                return null;
            }
            records++;
            return parse(text, lines.line());
        }

        private Document parse(String text, long line) throws DataFormatException {
            Map<String, Object> fields;
            try {
                fields = READER.readValue(text);
            } catch (JsonProcessingException e) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                        "not a JSON object: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED, e.toString());
            }
            if (fields == null) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED, "not a JSON object: null");
            }
            if (!fields.containsKey(textField)) {
                throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD,
                        "no text field \"" + textField + "\"; the record has fields " + fields.keySet()
                                + " (choose one with Dataset.jsonl(...).textField(name))");
            }
            Object body = fields.remove(textField);
            if (!(body instanceof String string)) {
                throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD,
                        "text field \"" + textField + "\" is " + (body == null ? "null" : "not a string: " + body)
                                + "; expected a JSON string");
            }
            Object id = fields.remove(idField);
            String docId = id == null ? fileId + ":" + line : id.toString();
            return Document.of(docId, string, fields);
        }

        @Override
        public void close() throws IOException {
            lines.close();
        }
    }
}
