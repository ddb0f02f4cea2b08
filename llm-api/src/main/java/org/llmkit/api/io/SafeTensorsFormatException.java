package org.llmkit.api.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file, or a checkpoint folder's shard index, is malformed or inconsistent.
 *
 * <p>The message always starts with the offending file's path, then says what was expected, what
 * was found and, where there is one, how to fix it; {@link #file()} returns the path.
 */
public class SafeTensorsFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The offending file, kept as a string because {@link Path} is not serializable. */
    private final String file;

    /**
     * Creates an exception for a problem in {@code file}.
     *
     * @param file the malformed file
     * @param problem what is wrong, for example
     *     {@code "tensor \"w\" has dtype \"F128\"; supported: F64, F32, ..."}
     */
    public SafeTensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = String.valueOf(file);
    }

    /**
     * Creates an exception for a problem in {@code file} detected by a lower-level failure.
     *
     * @param file the malformed file
     * @param problem what is wrong
     * @param cause the underlying failure, for example a JSON parse error
     */
    public SafeTensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = String.valueOf(file);
    }

    /**
     * Returns the malformed file.
     *
     * @return the path given at construction
     */
    public Path file() {
        return Path.of(file);
    }
}
