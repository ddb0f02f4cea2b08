package org.llmkit.data;

import java.util.Arrays;

/**
 * The LSH band table and the stored b-bit signatures of kept documents.
 *
 * <p>Band table: open addressing over one {@code long[]}, each entry {@code (bandKey << 32) |
 * (document + 1)}, several entries per key allowed (a multimap; lookups walk the probe run). Band
 * keys are 32-bit hashes of (band index, the band's MinHash values); a key collision only adds a
 * candidate, which verification then rejects. Signatures: the low 8 bits of each MinHash value,
 * {@code permutations} bytes per document, in one growing array.
 */
final class LshIndex {

    private final int bands;
    private final int rows;
    private final int permutations;
    private long[] table = new long[1 << 12];
    private int entries;
    private byte[] signatures;
    private int documents;

    LshIndex(NearDedup settings) {
        this.bands = settings.bands();
        this.rows = settings.rows();
        this.permutations = settings.permutations();
        this.signatures = new byte[permutations * 1024];
    }

    /** Band keys of a signature, one per band. */
    int[] bandKeys(int[] signature) {
        return bandKeys(signature, bands, rows);
    }

    /** Band keys of a signature: band {@code b}'s key hashes b and its {@code rows} MinHash values. */
    static int[] bandKeys(int[] signature, int bands, int rows) {
        int[] keys = new int[bands];
        for (int band = 0; band < bands; band++) {
            long h = 0x9e3779b97f4a7c15L * (band + 1);
            for (int r = 0; r < rows; r++) {
                h = MinHasher.mix(h ^ (signature[band * rows + r] & 0xffffffffL));
            }
            keys[band] = (int) h;
        }
        return keys;
    }

    /** Receives the stored documents that share a band key with a signature. */
    interface CandidateVisitor {
        /** Returns false to stop the visit. */
        boolean visit(int document);
    }

    /**
     * Visits every stored document sharing a band key with {@code keys}, once per shared key (a
     * document sharing several keys is visited several times), in table order.
     */
    void forEachCandidate(int[] keys, CandidateVisitor visitor) {
        int mask = table.length - 1;
        for (int key : keys) {
            int slot = slotOf(key, mask);
            for (long entry = table[slot]; entry != 0; entry = table[slot = (slot + 1) & mask]) {
                if ((int) (entry >>> 32) == key && !visitor.visit((int) entry - 1)) {
                    return;
                }
            }
        }
    }

    /** Stores a document's signature and band keys; returns its number (0, 1, 2, ... in order of addition). */
    int add(int[] signature, int[] keys) {
        int doc = documents++;
        if ((long) documents * permutations > signatures.length) {
            long wanted = Math.max((long) signatures.length * 2, (long) documents * permutations);
            if (wanted > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("near-dedup index is full: " + doc + " documents of " + permutations
                        + " signature bytes exceed 2 GiB; use fewer permutations or split the corpus");
            }
            signatures = Arrays.copyOf(signatures, (int) wanted);
        }
        int base = doc * permutations;
        for (int i = 0; i < permutations; i++) {
            signatures[base + i] = (byte) signature[i];
        }
        for (int key : keys) {
            if (2 * (entries + 1) > table.length) {
                grow();
            }
            put(table, ((long) key << 32) | ((doc + 1) & 0xffffffffL));
            entries++;
        }
        return doc;
    }

    /** The estimated similarity of a signature to a stored document. */
    double estimate(int[] signature, int doc) {
        int base = doc * permutations;
        int equal = 0;
        for (int i = 0; i < permutations; i++) {
            if ((byte) signature[i] == signatures[base + i]) {
                equal++;
            }
        }
        return similarity(equal, permutations);
    }

    /**
     * The Jaccard similarity estimated from the number of agreeing low bytes of two signatures.
     * b-bit MinHash (Li &amp; König): P(low 8 bits agree) = J + (1 - J) / 256.
     */
    static double similarity(int equalBytes, int permutations) {
        double agreement = (double) equalBytes / permutations;
        return (agreement - 1.0 / 256) / (1 - 1.0 / 256);
    }

    private static int slotOf(int key, int mask) {
        return (int) MinHasher.mix(key) & mask;
    }

    private static void put(long[] into, long entry) {
        int mask = into.length - 1;
        int slot = slotOf((int) (entry >>> 32), mask);
        while (into[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        into[slot] = entry;
    }

    private void grow() {
        long[] old = table;
        table = new long[old.length * 2];
        for (long entry : old) {
            if (entry != 0) {
                put(table, entry);
            }
        }
    }

    int documents() {
        return documents;
    }

    long bytes() {
        return 8L * table.length + signatures.length;
    }
}
