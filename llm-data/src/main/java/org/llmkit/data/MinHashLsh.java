package org.llmkit.data;

import java.io.Serializable;
import java.util.Objects;

/**
 * The near-dedup computations of {@link NearDedup}, for execution backends other than the
 * in-process {@link Pipeline} (llm-spark): MinHash signatures, LSH band keys and the link test.
 * A backend that links documents with exactly these functions and keeps the earliest document of
 * each connected component keeps the same documents as the in-process pipeline.
 *
 * <pre>{@code
 * MinHashLsh lsh = MinHashLsh.of(NearDedup.of(0.8));
 * int[] signature = lsh.signature(text);          // null: no words, never a near-duplicate
 * int[] keys = lsh.bandKeys(signature);           // documents sharing a key are candidates
 * byte[] compact = MinHashLsh.lowBytes(signature);
 * boolean linked = lsh.linked(compact, otherCompact);
 * }</pre>
 *
 * <p>Immutable, thread-safe and serializable.
 */
public final class MinHashLsh implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The settings' values (a record is not serialized here: {@link NearDedup} is not Serializable). */
    private final double threshold;
    /** See {@link NearDedup#permutations()}. */
    private final int permutations;
    /** See {@link NearDedup#shingleSize()}. */
    private final int shingleSize;
    /** See {@link NearDedup#bands()}. */
    private final int bands;
    /** See {@link NearDedup#rows()}. */
    private final int rows;
    /** See {@link NearDedup#seed()}. */
    private final long seed;
    /** The MinHash functions. */
    private final MinHasher hasher;

    private MinHashLsh(NearDedup settings) {
        this.threshold = settings.threshold();
        this.permutations = settings.permutations();
        this.shingleSize = settings.shingleSize();
        this.bands = settings.bands();
        this.rows = settings.rows();
        this.seed = settings.seed();
        this.hasher = new MinHasher(settings);
    }

    /**
     * Creates the functions for some settings.
     *
     * @param settings the near-dedup settings
     * @return the functions
     */
    public static MinHashLsh of(NearDedup settings) {
        return new MinHashLsh(Objects.requireNonNull(settings, "settings must not be null"));
    }

    /**
     * Returns the settings.
     *
     * @return the settings
     */
    public NearDedup settings() {
        return new NearDedup(threshold, permutations, shingleSize, bands, rows, seed);
    }

    /**
     * Computes a text's MinHash signature.
     *
     * @param text the text
     * @return {@code permutations} unsigned 32-bit minima, or null when the text has no words
     */
    public int[] signature(String text) {
        return hasher.signature(text);
    }

    /**
     * Computes the LSH band keys of a signature.
     *
     * @param signature a signature from {@link #signature(String)}
     * @return one 32-bit key per band; two documents are candidates when they share any key
     */
    public int[] bandKeys(int[] signature) {
        return LshIndex.bandKeys(signature, bands, rows);
    }

    /**
     * Returns the low byte of each MinHash value: what the link test compares (b-bit MinHash).
     *
     * @param signature a signature from {@link #signature(String)}
     * @return {@code permutations} bytes
     */
    public static byte[] lowBytes(int[] signature) {
        byte[] bytes = new byte[signature.length];
        for (int i = 0; i < signature.length; i++) {
            bytes[i] = (byte) signature[i];
        }
        return bytes;
    }

    /**
     * Estimates the Jaccard similarity of two documents from their signatures' low bytes.
     *
     * @param a one document's {@link #lowBytes(int[])}
     * @param b the other's
     * @return the estimate, corrected for chance agreement (may be slightly below 0)
     * @throws IllegalArgumentException when the lengths differ from the number of permutations
     */
    public double similarity(byte[] a, byte[] b) {
        if (a.length != permutations || b.length != permutations) {
            throw new IllegalArgumentException("signatures have " + a.length + " and " + b.length
                    + " bytes, expected " + permutations + " (the number of permutations)");
        }
        int equal = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i]) {
                equal++;
            }
        }
        return LshIndex.similarity(equal, a.length);
    }

    /**
     * Tells whether two candidates are linked: their estimated similarity is at least the threshold.
     *
     * @param a one document's {@link #lowBytes(int[])}
     * @param b the other's
     * @return true when linked
     */
    public boolean linked(byte[] a, byte[] b) {
        return similarity(a, b) >= threshold;
    }
}
