package org.llmkit.data;

import java.io.Closeable;
import java.io.IOException;

/**
 * Documents read one at a time from a {@link Dataset}. Not thread-safe; close it when done.
 */
public interface DocumentStream extends Closeable {

    /**
     * Reads the next document.
     *
     * @return the document, or null at the end
     * @throws DataFormatException when the next record is malformed; the stream has then moved past
     *     it and can be read further
     * @throws IOException when a file cannot be read
     */
    Document next() throws IOException;
}
