package org.llmkit.api.model;

import java.util.Locale;

/**
 * Which kernel runs the matrix-vector products of a batch-1 decode step on the CPU (float32 models). A decode
 * step streams every weight once for one token, so this kernel's bandwidth decides the decode speed.
 */
public enum DecodeGemv {
    /** Measure both on the model's own weights at the first decode step and keep the faster. */
    AUTO,
    /** OpenBLAS {@code sgemv} ({@link HostDecoder}): the whole step on the host, attention and norms in Java. */
    OPENBLAS,
    /** oneDNN's inner product inside the scripted layers (one libtorch call for all layers). */
    ONEDNN;

    /** The system property that sets the default for new models: {@code auto}, {@code openblas} or {@code onednn}. */
    public static final String PROPERTY = "llmkit.decode.gemv";

    /**
     * The default for new models: the {@link #PROPERTY} system property, else {@link #AUTO}.
     *
     * @return the choice
     * @throws IllegalArgumentException naming the property when its value is not one of the three
     */
    public static DecodeGemv fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "auto").trim();
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + PROPERTY + " must be auto, openblas or onednn, found '"
                    + value + "'", e);
        }
    }
}
