package org.llmkit.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.SplittableRandom;

/**
 * Token sequences for training and evaluation, addressed by index: in memory
 * ({@link #of(int[][])}) or packed shards on disk ({@link #open(Path)}), which are memory-mapped
 * and never loaded whole.
 *
 * <h2>On-disk format (version 1)</h2>
 * A folder written by {@link Pipeline#writeTo(Path)} (or {@link TokenShardWriter}) holds:
 * <ul>
 *   <li>{@code tokens-00000.bin}, {@code tokens-00001.bin}, ...: sequences of exactly
 *       {@code sequence_length} tokens each, back to back, no header; every token is a little-endian
 *       unsigned integer of {@code dtype}: {@code uint16} when the vocabulary has at most 65,536
 *       ids, else {@code uint32}. Sequence {@code j} of a shard starts at byte
 *       {@code j × sequence_length × bytes_per_token}. Each shard is below 2 GiB.</li>
 *   <li>{@code index.json}, written last (shards are complete and renamed into place before it):
 * <pre>{@code
 * {"format": "llmkit-token-shards", "version": 1, "dtype": "uint16", "vocab_size": 512,
 *  "sequence_length": 128, "sequences": 1000, "tokens": 128000, "separator_token_id": 2,
 *  "shards": [{"file": "tokens-00000.bin", "sequences": 1000, "bytes": 256000, "sha256": "9f86d0..."}]}
 * }</pre></li>
 * </ul>
 * A folder without {@code index.json} is incomplete: a writer that crashed leaves no index (and
 * only hidden temporary files), so a reader never mistakes it for a finished dataset.
 * In Python: {@code np.memmap(f, dtype="<u2", mode="r").reshape(-1, sequence_length)}.
 *
 * <p>Implementations are immutable and safe for concurrent reads; close on-disk datasets.
 */
public interface TokenDataset extends AutoCloseable {

    /**
     * Sequences in memory; the vocabulary size is taken as the largest id + 1.
     *
     * @param sequences the sequences; copied, none null or empty, no negative ids
     * @return the dataset
     */
    static TokenDataset of(int[][] sequences) {
        return InMemoryTokenDataset.copyOf(sequences, -1);
    }

    /**
     * Sequences in memory with a known vocabulary size.
     *
     * @param sequences the sequences; copied, none null or empty, every id in [0, vocabSize)
     * @param vocabSize the vocabulary size, at least 1
     * @return the dataset
     */
    static TokenDataset of(int[][] sequences, int vocabSize) {
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be at least 1, was " + vocabSize);
        }
        return InMemoryTokenDataset.copyOf(sequences, vocabSize);
    }

    /**
     * Opens packed shards: reads {@code index.json}, checks that every shard exists with the size the
     * index gives, and memory-maps them. Checksums are checked by {@link ShardedTokenDataset#verify()}.
     *
     * @param folder a folder with {@code index.json} and its shards
     * @return the dataset; close it
     * @throws IOException when the index is missing or invalid or a shard is missing or has the wrong size
     */
    static ShardedTokenDataset open(Path folder) throws IOException {
        return ShardedTokenDataset.open(folder);
    }

    /**
     * Returns the number of sequences.
     *
     * @return the count
     */
    long size();

    /**
     * Returns a sequence.
     *
     * @param index in [0, size())
     * @return a new array holding its token ids
     * @throws IndexOutOfBoundsException when the index is out of range
     */
    int[] get(long index);

    /**
     * Returns the length every sequence has.
     *
     * @return the length, or empty when lengths differ (possible only in memory)
     */
    OptionalInt sequenceLength();

    /**
     * Returns the vocabulary size: every id is below it.
     *
     * @return the vocabulary size
     */
    int vocabSize();

    /**
     * Returns the total number of tokens.
     *
     * @return the sum of all sequence lengths
     */
    long tokenCount();

    /**
     * Returns the sequences {@code [from, to)} as a view.
     *
     * @param from first index, inclusive
     * @param to last index, exclusive, with {@code 0 <= from <= to <= size()}
     * @return the view, sharing storage with this dataset
     */
    default TokenDataset slice(long from, long to) {
        if (from < 0 || from > to || to > size()) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") is outside [0, " + size() + ")");
        }
        long[] indices = new long[Math.toIntExact(to - from)];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = from + i;
        }
        return new TokenDatasetView(this, indices);
    }

    /**
     * Splits the sequences at random into training and validation views.
     *
     * @param trainFraction the share of sequences for training, in (0, 1); the training view gets
     *     {@code round(size × trainFraction)} of them
     * @param seed the shuffling seed; the same seed gives the same split
     * @return the two views, sharing storage with this dataset
     */
    default Split split(double trainFraction, long seed) {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("trainFraction must be in (0, 1), was " + trainFraction);
        }
        int n = Math.toIntExact(size());
        long[] order = new long[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int train = (int) Math.round(n * trainFraction);
        long[] trainIdx = java.util.Arrays.copyOfRange(order, 0, train);
        long[] validIdx = java.util.Arrays.copyOfRange(order, train, n);
        java.util.Arrays.sort(trainIdx);
        java.util.Arrays.sort(validIdx);
        return new Split(new TokenDatasetView(this, trainIdx), new TokenDatasetView(this, validIdx));
    }

    /** Releases memory maps; in-memory datasets and views do nothing. */
    @Override
    default void close() {
    }

    /**
     * A training/validation pair.
     *
     * @param train the training sequences
     * @param validation the validation sequences
     */
    record Split(TokenDataset train, TokenDataset validation) {
    }
}
