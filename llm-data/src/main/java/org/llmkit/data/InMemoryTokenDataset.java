package org.llmkit.data;

import java.util.OptionalInt;

/** Sequences held in Java arrays. */
final class InMemoryTokenDataset implements TokenDataset {

    private final int[][] sequences;
    private final int vocabSize;
    private final OptionalInt length;
    private final long tokens;

    private InMemoryTokenDataset(int[][] sequences, int vocabSize, OptionalInt length, long tokens) {
        this.sequences = sequences;
        this.vocabSize = vocabSize;
        this.length = length;
        this.tokens = tokens;
    }

    static InMemoryTokenDataset copyOf(int[][] sequences, int vocabSize) {
        java.util.Objects.requireNonNull(sequences, "sequences must not be null");
        if (sequences.length == 0) {
            throw new IllegalArgumentException("sequences must not be empty");
        }
        int[][] copy = new int[sequences.length][];
        int max = -1;
        long tokens = 0;
        boolean fixed = true;
        for (int s = 0; s < sequences.length; s++) {
            int[] seq = sequences[s];
            if (seq == null || seq.length == 0) {
                throw new IllegalArgumentException("sequences[" + s + "] is " + (seq == null ? "null" : "empty"));
            }
            fixed &= seq.length == sequences[0].length;
            for (int t = 0; t < seq.length; t++) {
                int id = seq[t];
                if (id < 0 || (vocabSize > 0 && id >= vocabSize)) {
                    throw new IllegalArgumentException("sequences[" + s + "][" + t + "] = " + id + " is outside [0, "
                            + (vocabSize > 0 ? vocabSize : "∞") + ")");
                }
                max = Math.max(max, id);
            }
            copy[s] = seq.clone();
            tokens += seq.length;
        }
        return new InMemoryTokenDataset(copy, vocabSize > 0 ? vocabSize : max + 1,
                fixed ? OptionalInt.of(sequences[0].length) : OptionalInt.empty(), tokens);
    }

    @Override
    public long size() {
        return sequences.length;
    }

    @Override
    public int[] get(long index) {
        if (index < 0 || index >= sequences.length) {
            throw new IndexOutOfBoundsException("sequence " + index + " is outside [0, " + sequences.length + ")");
        }
        return sequences[(int) index].clone();
    }

    @Override
    public OptionalInt sequenceLength() {
        return length;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public long tokenCount() {
        return tokens;
    }

    @Override
    public String toString() {
        return "TokenDataset[" + sequences.length + " sequences in memory, vocab " + vocabSize + "]";
    }
}
