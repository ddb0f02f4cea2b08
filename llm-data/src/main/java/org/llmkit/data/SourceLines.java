package org.llmkit.data;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The non-blank lines of one source file, numbered from 1; a failed read names the file and the line
 * ({@link SourceFiles#readFailure}). The reader is closed at the end of the file or by {@link #close}.
 */
final class SourceLines implements Closeable {
    private final Path file;
    private BufferedReader reader;
    private long line;

    SourceLines(Path file, BufferedReader reader) {
        this.file = file;
        this.reader = reader;
    }

    /**
     * @return the next non-blank line, or null at the end of the file (and at every call after it)
     * @throws IOException naming the file and the line when reading fails
     */
    String next() throws IOException {
        while (reader != null) {
            String text;
            try {
                text = reader.readLine();
            } catch (IOException e) {
                throw SourceFiles.readFailure(file, line + 1, e);
            }
            if (text == null) {
                close();
                return null;
            }
            line++;
            if (!text.isBlank()) {
                return text;
            }
        }
        return null;
    }

    /** @return the number of the line {@link #next} returned last (blank lines counted) */
    long line() {
        return line;
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }
}
