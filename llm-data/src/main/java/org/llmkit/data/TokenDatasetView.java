package org.llmkit.data;

import java.util.OptionalInt;

/** A subset of another dataset's sequences, by index. */
final class TokenDatasetView implements TokenDataset {

    private final TokenDataset base;
    private final long[] indices;

    TokenDatasetView(TokenDataset base, long[] indices) {
        this.base = base;
        this.indices = indices;
    }

    @Override
    public long size() {
        return indices.length;
    }

    @Override
    public int[] get(long index) {
        if (index < 0 || index >= indices.length) {
            throw new IndexOutOfBoundsException("sequence " + index + " is outside [0, " + indices.length + ")");
        }
        return base.get(indices[(int) index]);
    }

    @Override
    public OptionalInt sequenceLength() {
        if (base.sequenceLength().isPresent()) {
            return base.sequenceLength();
        }
        int length = -1;
        for (long i : indices) {
            int n = base.get(i).length;
            if (length >= 0 && n != length) {
                return OptionalInt.empty();
            }
            length = n;
        }
        return length < 0 ? OptionalInt.empty() : OptionalInt.of(length);
    }

    @Override
    public int vocabSize() {
        return base.vocabSize();
    }

    @Override
    public long tokenCount() {
        if (base.sequenceLength().isPresent()) {
            return (long) indices.length * base.sequenceLength().getAsInt();
        }
        long total = 0;
        for (long i : indices) {
            total += base.get(i).length;
        }
        return total;
    }

    @Override
    public String toString() {
        return "TokenDataset[" + indices.length + " of " + base + "]";
    }
}
