package org.llmkit.train;

import java.util.SplittableRandom;

/**
 * The order in which sequences are visited: epoch {@code e} is a permutation drawn from
 * {@code seed + e} (or the identity without shuffling), cut into batches of {@code batchSize}; the last
 * batch of an epoch may be smaller (transformers' {@code drop_last=False}). Because each epoch's order
 * depends only on the seed and the epoch number, the position {@code (epoch, batch)} is all a checkpoint
 * needs to continue the same order.
 */
final class DataOrder {
    private final int size;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private int epoch;
    private int batch;
    private int[] permutation;

    DataOrder(long size, int batchSize, boolean shuffle, long seed, int epoch, int batch) {
        this.size = Math.toIntExact(size);
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.epoch = epoch;
        this.batch = batch;
        this.permutation = permutation(epoch);
    }

    /** @return batches per epoch */
    int batchesPerEpoch() {
        return (size + batchSize - 1) / batchSize;
    }

    /** @return the epoch of the next batch */
    int epoch() {
        return epoch;
    }

    /** @return the index, within its epoch, of the next batch */
    int batch() {
        return batch;
    }

    /** @return whether the next batch is the last one of its epoch */
    boolean atLastBatchOfEpoch() {
        return batch == batchesPerEpoch() - 1;
    }

    /** @return the dataset indices of the next batch; advances to the following one */
    long[] next() {
        int from = batch * batchSize;
        int to = Math.min(size, from + batchSize);
        long[] indices = new long[to - from];
        for (int i = from; i < to; i++) {
            indices[i - from] = permutation[i];
        }
        batch++;
        if (batch == batchesPerEpoch()) {
            batch = 0;
            epoch++;
            permutation = permutation(epoch);
        }
        return indices;
    }

    private int[] permutation(int e) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom random = new SplittableRandom(seed + e);
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }
}
