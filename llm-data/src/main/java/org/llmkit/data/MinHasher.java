package org.llmkit.data;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * MinHash signatures of word shingles (see {@link NearDedup}). Each shingle gets one 64-bit hash
 * (FNV-1a over its words, then a 64-bit finaliser); permutation {@code i} maps it to the upper 32
 * bits of {@code a[i] * h + b[i]} (multiply-shift hashing, {@code a[i]} odd). Thread-safe.
 */
final class MinHasher implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** Number of MinHash functions. */
    private final int permutations;
    /** Words per shingle. */
    private final int shingleSize;
    /** Odd multipliers, one per permutation. */
    private final long[] a;
    /** Offsets, one per permutation. */
    private final long[] b;

    MinHasher(NearDedup settings) {
        this.permutations = settings.permutations();
        this.shingleSize = settings.shingleSize();
        SplittableRandom random = new SplittableRandom(settings.seed());
        this.a = new long[permutations];
        this.b = new long[permutations];
        for (int i = 0; i < permutations; i++) {
            a[i] = random.nextLong() | 1L;
            b[i] = random.nextLong();
        }
    }

    /** Returns the signature (unsigned 32-bit minima as ints), or null when the text has no words. */
    int[] signature(String text) {
        long[] shingles = shingleHashes(text);
        if (shingles.length == 0) {
            return null;
        }
        int[] min = new int[permutations];
        for (int i = 0; i < permutations; i++) {
            long ai = a[i];
            long bi = b[i];
            int best = -1; // 0xffffffff: the largest unsigned value
            for (long h : shingles) {
                int v = (int) ((ai * h + bi) >>> 32);
                if (Integer.compareUnsigned(v, best) < 0) {
                    best = v;
                }
            }
            min[i] = best;
        }
        return min;
    }

    /** The 64-bit hashes of the text's shingles (duplicates possible; they do not change minima). */
    long[] shingleHashes(String text) {
        long[] words = wordHashes(text.toLowerCase(Locale.ROOT));
        if (words.length == 0) {
            return new long[0];
        }
        int k = Math.min(shingleSize, words.length);
        long[] shingles = new long[words.length - k + 1];
        for (int start = 0; start < shingles.length; start++) {
            long h = 0xcbf29ce484222325L;
            for (int j = 0; j < k; j++) {
                h = (h ^ words[start + j]) * 0x100000001b3L;
            }
            shingles[start] = mix(h);
        }
        return shingles;
    }

    private static long[] wordHashes(String text) {
        long[] hashes = new long[Math.max(8, text.length() / 5)];
        int count = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            int cp = text.codePointAt(i);
            if (!Character.isLetterOrDigit(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            long h = 0xcbf29ce484222325L;
            while (i < n) {
                cp = text.codePointAt(i);
                if (!Character.isLetterOrDigit(cp)) {
                    break;
                }
                h = (h ^ cp) * 0x100000001b3L;
                i += Character.charCount(cp);
            }
            if (count == hashes.length) {
                hashes = java.util.Arrays.copyOf(hashes, count * 2);
            }
            hashes[count++] = mix(h);
        }
        return java.util.Arrays.copyOf(hashes, count);
    }

    /** The finaliser of MurmurHash3 (fmix64). */
    static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
