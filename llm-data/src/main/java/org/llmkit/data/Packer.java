package org.llmkit.data;

import java.io.IOException;

/**
 * Concatenates documents' tokens, a separator after each document, and cuts the stream into
 * sequences of exactly {@code length} tokens; a document may span two sequences. The tokens left
 * at the end (fewer than {@code length}) are not written and are counted as the tail.
 */
final class Packer {

    /** Receives complete sequences. */
    interface SequenceSink {
        void accept(int[] sequence) throws IOException;
    }

    private final int length;
    private final int separator;
    private final SequenceSink sink;
    private final int[] buffer;
    private int filled;
    private long sequences;
    private long documents;

    Packer(int length, int separator, SequenceSink sink) {
        this.length = length;
        this.separator = separator;
        this.sink = sink;
        this.buffer = new int[length];
    }

    void add(int[] tokens) throws IOException {
        documents++;
        for (int token : tokens) {
            push(token);
        }
        if (separator >= 0) {
            push(separator);
        }
    }

    private void push(int token) throws IOException {
        buffer[filled++] = token;
        if (filled == length) {
            sink.accept(buffer.clone());
            sequences++;
            filled = 0;
        }
    }

    long sequences() {
        return sequences;
    }

    long documents() {
        return documents;
    }

    /** Tokens that did not fill a last sequence. */
    long tail() {
        return filled;
    }
}
