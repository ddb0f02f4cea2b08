package org.llmkit.data;

/**
 * Settings of near-duplicate removal by MinHash and locality-sensitive hashing (LSH).
 *
 * <p>A document's <em>shingles</em> are the sets of {@link #shingleSize()} consecutive words of its
 * lower-cased text (words: maximal runs of letters and digits); a document with fewer words has
 * its whole word sequence as one shingle, one without words is never a near-duplicate. Two
 * documents' similarity is the Jaccard similarity of their shingle sets.
 *
 * <p><b>Clusters.</b> Two documents are <em>linked</em> when they share at least one LSH band key
 * ({@link #bands()} bands of {@link #rows()} MinHash values, each band hashed to a 32-bit key) and
 * their estimated similarity, from the low 8 bits of all {@link #permutations()} MinHash values
 * (b-bit MinHash, corrected for chance agreement), is at least {@link #threshold()}. A
 * <em>cluster</em> is a connected component of the links; each cluster keeps its earliest document
 * (the first in source order) and the others are dropped as {@code near_duplicate}. So a chain
 * A~B~C of which A and C are not linked directly still keeps A alone, and the kept set does not
 * depend on how the corpus is split or processed: the in-process {@link Pipeline} and
 * distributed backends (llm-spark) keep the same documents. Since a cluster is only known once
 * every document has been seen, a pipeline with near dedup reads its source twice (see
 * {@link Pipeline#nearDedup(NearDedup)}).
 *
 * <p>By default bands and rows minimise 0.1 × (false-candidate area below the threshold) + 0.9 ×
 * (missed-candidate area above it), since candidates are verified: for threshold 0.8 and 128
 * permutations that is 14 bands of 9 rows. Memory per document that reaches the stage:
 * {@code permutations} bytes of signature plus one 8-byte table entry per band at load ≤ 0.5
 * (16-32 bytes) and 12 bytes of cluster bookkeeping, so about 128 + 14 × 24 + 12 ≈ 480 bytes with
 * the defaults.
 *
 * <pre>{@code
 * NearDedup.builder().threshold(0.8).permutations(128).shingleSize(5).build()
 * }</pre>
 *
 * @param threshold Jaccard similarity at or above which a document is a near-duplicate, in (0, 1]
 * @param permutations number of MinHash functions, in [1, 1024]
 * @param shingleSize words per shingle, in [1, 32]
 * @param bands LSH bands, at least 1
 * @param rows MinHash values per band; {@code bands × rows ≤ permutations}
 * @param seed seed of the hash functions
 */
public record NearDedup(double threshold, int permutations, int shingleSize, int bands, int rows, long seed) {

    /** Weight of false candidates when bands and rows are derived from the threshold. */
    static final double FALSE_CANDIDATE_WEIGHT = 0.1;

    /**
     * Validates the settings.
     *
     * @param threshold see the record description
     * @param permutations see the record description
     * @param shingleSize see the record description
     * @param bands see the record description
     * @param rows see the record description
     * @param seed see the record description
     * @throws IllegalArgumentException naming the setting that is out of range
     */
    public NearDedup {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold must be in (0, 1], was " + threshold);
        }
        if (permutations < 1 || permutations > 1024) {
            throw new IllegalArgumentException("permutations must be in [1, 1024], was " + permutations);
        }
        if (shingleSize < 1 || shingleSize > 32) {
            throw new IllegalArgumentException("shingleSize must be in [1, 32], was " + shingleSize);
        }
        if (bands < 1 || rows < 1) {
            throw new IllegalArgumentException("bands and rows must be at least 1, were " + bands + " and " + rows);
        }
        if ((long) bands * rows > permutations) {
            throw new IllegalArgumentException("bands × rows (" + bands + " × " + rows + " = " + (bands * rows)
                    + ") must not exceed permutations (" + permutations + ")");
        }
    }

    /**
     * The defaults for a threshold: 128 permutations, 5-word shingles, derived bands and rows.
     *
     * @param threshold Jaccard similarity threshold, in (0, 1]
     * @return the settings
     */
    public static NearDedup of(double threshold) {
        return builder().threshold(threshold).build();
    }

    /**
     * Starts a builder with the defaults: threshold 0.8, 128 permutations, 5-word shingles, seed 42,
     * bands and rows derived from the threshold.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the probability that two documents of Jaccard similarity {@code s} share a band:
     * {@code 1 - (1 - s^rows)^bands}.
     *
     * @param similarity the Jaccard similarity, in [0, 1]
     * @return the candidate probability
     */
    public double candidateProbability(double similarity) {
        return 1 - Math.pow(1 - Math.pow(similarity, rows), bands);
    }

    /** Builds {@link NearDedup} settings; validation happens in {@link #build()}. */
    public static final class Builder {
        private double threshold = 0.8;
        private int permutations = 128;
        private int shingleSize = 5;
        private int bands;
        private int rows;
        private long seed = 42;

        private Builder() {
        }

        /**
         * Sets the Jaccard similarity threshold.
         *
         * @param value in (0, 1]
         * @return this builder
         */
        public Builder threshold(double value) {
            this.threshold = value;
            return this;
        }

        /**
         * Sets the number of MinHash functions.
         *
         * @param value in [1, 1024]
         * @return this builder
         */
        public Builder permutations(int value) {
            this.permutations = value;
            return this;
        }

        /**
         * Sets the number of words per shingle.
         *
         * @param value in [1, 32]
         * @return this builder
         */
        public Builder shingleSize(int value) {
            this.shingleSize = value;
            return this;
        }

        /**
         * Sets the LSH layout explicitly instead of deriving it from the threshold.
         *
         * @param bandCount number of bands, at least 1
         * @param rowsPerBand MinHash values per band, at least 1, with bands × rows ≤ permutations
         * @return this builder
         */
        public Builder bands(int bandCount, int rowsPerBand) {
            this.bands = bandCount;
            this.rows = rowsPerBand;
            return this;
        }

        /**
         * Sets the seed of the hash functions.
         *
         * @param value any value
         * @return this builder
         */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /**
         * Builds the settings.
         *
         * @return the settings
         * @throws IllegalArgumentException naming the setting that is out of range
         */
        public NearDedup build() {
            if (bands == 0 && rows == 0) {
                if (!(threshold > 0 && threshold <= 1)) {
                    throw new IllegalArgumentException("threshold must be in (0, 1], was " + threshold);
                }
                if (permutations < 1 || permutations > 1024) {
                    throw new IllegalArgumentException("permutations must be in [1, 1024], was " + permutations);
                }
                int[] layout = optimalLayout(threshold, permutations);
                return new NearDedup(threshold, permutations, shingleSize, layout[0], layout[1], seed);
            }
            return new NearDedup(threshold, permutations, shingleSize, bands, rows, seed);
        }
    }

    /** Bands and rows minimising weighted false-candidate and missed-candidate areas (as datasketch does). */
    static int[] optimalLayout(double threshold, int permutations) {
        double bestError = Double.MAX_VALUE;
        int[] best = {1, 1};
        for (int b = 1; b <= permutations; b++) {
            for (int r = 1; (long) b * r <= permutations; r++) {
                double falseCandidates = integrate(b, r, 0, threshold, false);
                double missed = integrate(b, r, threshold, 1, true);
                double error = FALSE_CANDIDATE_WEIGHT * falseCandidates + (1 - FALSE_CANDIDATE_WEIGHT) * missed;
                if (error < bestError) {
                    bestError = error;
                    best = new int[] {b, r};
                }
            }
        }
        return best;
    }

    private static double integrate(int b, int r, double from, double to, boolean missed) {
        int steps = 200;
        double h = (to - from) / steps;
        double sum = 0;
        for (int i = 0; i < steps; i++) {
            double s = from + (i + 0.5) * h;
            double p = 1 - Math.pow(1 - Math.pow(s, r), b);
            sum += missed ? 1 - p : p;
        }
        return sum * h;
    }
}
