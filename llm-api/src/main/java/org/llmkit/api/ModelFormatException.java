package org.llmkit.api;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model folder or one of its files is missing, corrupt or not what llmkit can load. The message
 * names the file and the problem.
 */
public class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param file the offending file or folder
     * @param problem what is wrong and, where possible, how to fix it
     */
    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param file the offending file or folder
     * @param problem what is wrong
     * @param cause the underlying error
     */
    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
