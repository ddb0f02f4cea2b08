package org.llmkit.api.io;

import java.io.IOException;

/**
 * A consumer that may throw {@link IOException}, used to write a file's body in
 * {@link AtomicFiles}.
 *
 * @param <T> the type of the value consumed, for example a {@link java.nio.channels.FileChannel}
 */
@FunctionalInterface
public interface IoConsumer<T> {

    /**
     * Consumes {@code value}.
     *
     * @param value the value, for example the channel to write to
     * @throws IOException if writing fails
     */
    void accept(T value) throws IOException;
}
