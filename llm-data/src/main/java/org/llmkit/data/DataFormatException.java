package org.llmkit.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A record of a source file that cannot be turned into a document: a JSONL line that is not a JSON
 * object, a missing or non-text text field, a CSV row with the wrong number of columns.
 *
 * <p>The message names the file, the line and the problem. A {@link Pipeline} either fails on it
 * (the default) or, with {@link Pipeline#skipMalformed()}, counts the record as dropped with
 * {@link #reason()} and goes on; the stream that threw it can be read further.
 */
public class DataFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Drop reason of a record that is not valid in its format. */
    public static final String MALFORMED = "malformed";
    /** Drop reason of a record that lacks its text field, or whose text field is not text. */
    public static final String MISSING_FIELD = "missing_field";

    /** The file. */
    private final transient Path file;
    /** The 1-based line, or 0. */
    private final long line;
    /** The drop reason. */
    private final String reason;
    /** What is wrong, without the location. */
    private final String detail;

    /**
     * Creates the exception.
     *
     * @param file the file
     * @param line the 1-based line number, or 0 when the problem concerns the whole file
     * @param reason the drop reason: {@link #MALFORMED} or {@link #MISSING_FIELD}
     * @param detail what is wrong and, where possible, how to fix it
     */
    public DataFormatException(Path file, long line, String reason, String detail) {
        super(location(file, line) + ": " + detail);
        this.file = file;
        this.line = line;
        this.reason = reason;
        this.detail = detail;
    }

    private static String location(Path file, long line) {
        return line > 0 ? file + ":" + line : String.valueOf(file);
    }

    /**
     * Returns the file.
     *
     * @return the file
     */
    public Path file() {
        return file;
    }

    /**
     * Returns the 1-based line number.
     *
     * @return the line, or 0 when the problem concerns the whole file
     */
    public long line() {
        return line;
    }

    /**
     * Returns the drop reason under which a pipeline that skips malformed records counts it.
     *
     * @return {@link #MALFORMED} or {@link #MISSING_FIELD}
     */
    public String reason() {
        return reason;
    }

    /**
     * Returns what is wrong, without the file and line.
     *
     * @return the detail given to the constructor
     */
    public String detail() {
        return detail;
    }
}
