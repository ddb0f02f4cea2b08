package org.llmkit.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A source of documents that can be read, from the start, as often as needed.
 *
 * <p>Files may be gzip- or zstd-compressed: the compression is recognised by the file's first bytes,
 * whatever its name. Every file is checked when the stream opens, so that a missing, unreadable or
 * empty file fails the run before any work is done.
 *
 * <pre>{@code
 * Dataset.jsonl(Path.of("dump.jsonl.zst"))                     // text field "text", id field "id"
 * Dataset.jsonl(Path.of("dump.jsonl")).textField("content")    // another text field
 * Dataset.text(Path.of("books/"))                              // one document per file, recursively
 * Dataset.csv(Path.of("data.csv"), "body")                     // header row, text column "body"
 * Dataset.of(List.of("first text", "second text"))             // in memory
 * }</pre>
 */
public interface Dataset {

    /**
     * Opens a stream over all documents, in order.
     *
     * @return a new stream; close it
     * @throws IOException when a file is missing, unreadable or empty
     */
    DocumentStream open() throws IOException;

    /**
     * Describes the source for reports and logs, for example {@code jsonl[dump.jsonl]}.
     *
     * @return a short description
     */
    String describe();

    /**
     * JSON Lines files: one JSON object per line, text in field {@code "text"}; the other fields
     * become metadata. Blank lines are not records.
     *
     * @param files the files, read in the order given; a folder stands for its regular files in
     *     name order
     * @return the dataset; choose other fields with {@link JsonlDataset#textField(String)} and
     *     {@link JsonlDataset#idField(String)}
     */
    static JsonlDataset jsonl(Path... files) {
        return new JsonlDataset(List.of(files), JsonlDataset.DEFAULT_TEXT_FIELD, JsonlDataset.DEFAULT_ID_FIELD);
    }

    /**
     * Plain-text files: one document per file (UTF-8), its id the path relative to the argument
     * it was found under. Folders are walked recursively in name order, hidden files skipped.
     *
     * @param paths files or folders
     * @return the dataset; {@link TextDataset#perLine()} makes each non-blank line a document
     */
    static TextDataset text(Path... paths) {
        return new TextDataset(List.of(paths), false);
    }

    /**
     * A comma-separated file with a header row; the other columns become metadata.
     *
     * @param file the file
     * @param textColumn the header name of the text column
     * @return the dataset
     */
    static CsvDataset csv(Path file, String textColumn) {
        return new CsvDataset(file, textColumn, ',');
    }

    /**
     * A tab-separated file with a header row; the other columns become metadata.
     *
     * @param file the file
     * @param textColumn the header name of the text column
     * @return the dataset
     */
    static CsvDataset tsv(Path file, String textColumn) {
        return new CsvDataset(file, textColumn, '\t');
    }

    /**
     * Texts in memory; document {@code i} has id {@code "i"}.
     *
     * @param texts the texts; copied, none null
     * @return the dataset
     */
    static Dataset of(List<String> texts) {
        Objects.requireNonNull(texts, "texts must not be null");
        List<Document> docs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text == null) {
                throw new IllegalArgumentException("texts[" + i + "] is null");
            }
            docs.add(Document.of(Integer.toString(i), text));
        }
        return new DocumentListDataset(docs);
    }

    /**
     * Documents in memory.
     *
     * @param documents the documents; copied, none null
     * @return the dataset
     */
    static Dataset ofDocuments(List<Document> documents) {
        Objects.requireNonNull(documents, "documents must not be null");
        for (int i = 0; i < documents.size(); i++) {
            if (documents.get(i) == null) {
                throw new IllegalArgumentException("documents[" + i + "] is null");
            }
        }
        return new DocumentListDataset(List.copyOf(documents));
    }
}
