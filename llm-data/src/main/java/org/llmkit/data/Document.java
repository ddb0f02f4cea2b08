package org.llmkit.data;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One document of a corpus: an identifier, its text and the other fields of its source record.
 *
 * <p>Immutable and serializable (for distributed backends such as llm-spark; metadata values must
 * then be serializable, as Jackson's and CSV values are). The metadata map keeps the source's field order; its values are what Jackson makes
 * of JSON values (String, Number, Boolean, List, Map, or null) or strings for CSV columns.
 */
public final class Document implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The identifier. */
    private final String id;
    /** The text. */
    private final String text;
    /** The other fields of the source record, unmodifiable, in source order. */
    private final Map<String, Object> metadata;

    private Document(String id, String text, Map<String, Object> metadata) {
        this.id = id;
        this.text = text;
        this.metadata = metadata;
    }

    /**
     * Creates a document without metadata.
     *
     * @param id an identifier, unique within its dataset (for example {@code file.jsonl:17})
     * @param text the text
     * @return the document
     */
    public static Document of(String id, String text) {
        return of(id, text, Map.of());
    }

    /**
     * Creates a document.
     *
     * @param id an identifier, unique within its dataset
     * @param text the text
     * @param metadata further fields; copied, null values allowed
     * @return the document
     */
    public static Document of(String id, String text, Map<String, ?> metadata) {
        Objects.requireNonNull(id, "id must not be null");
        Objects.requireNonNull(text, "text must not be null");
        Objects.requireNonNull(metadata, "metadata must not be null");
        Map<String, Object> copy = metadata.isEmpty()
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        return new Document(id, text, copy);
    }

    /**
     * Returns the identifier: the source's id field, else {@code <file>:<line>}, the relative file
     * path of a text document, or the list index of an in-memory one.
     *
     * @return the identifier
     */
    public String id() {
        return id;
    }

    /**
     * Returns the text.
     *
     * @return the text
     */
    public String text() {
        return text;
    }

    /**
     * Returns the fields of the source record other than the text and id fields.
     *
     * @return an unmodifiable map in source order
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /**
     * Returns a copy of this document with another text and the same id and metadata.
     *
     * @param newText the new text
     * @return the new document
     */
    public Document withText(String newText) {
        Objects.requireNonNull(newText, "newText must not be null");
        return new Document(id, newText, metadata);
    }

    /**
     * Returns a copy of this document with one metadata field added or replaced.
     *
     * @param key the field name
     * @param value the value, may be null
     * @return the new document
     */
    public Document withMetadata(String key, Object value) {
        Objects.requireNonNull(key, "key must not be null");
        Map<String, Object> copy = new LinkedHashMap<>(metadata);
        copy.put(key, value);
        return new Document(id, text, Collections.unmodifiableMap(copy));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Document d && id.equals(d.id) && text.equals(d.text) && metadata.equals(d.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, text, metadata);
    }

    @Override
    public String toString() {
        String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
        return "Document[" + id + ": \"" + shown.replace("\n", "\\n") + "\"]";
    }
}
