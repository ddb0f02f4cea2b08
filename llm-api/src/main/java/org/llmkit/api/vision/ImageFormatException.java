package org.llmkit.api.vision;

import java.io.IOException;

/**
 * An image could not be decoded: a file or byte array that is no PNG, JPEG, BMP, GIF or WBMP the JDK's ImageIO
 * can read, or one that is truncated or corrupt. The message names the source.
 */
public class ImageFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param source the file or a description of the bytes
     * @param problem what is wrong
     */
    public ImageFormatException(String source, String problem) {
        super(source + ": " + problem);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param source the file or a description of the bytes
     * @param problem what is wrong
     * @param cause the decoder's error
     */
    public ImageFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
