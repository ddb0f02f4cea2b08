package org.llmkit.data;

/**
 * A set of 128-bit hashes: open addressing with linear probing over one {@code long[]} (two longs
 * per slot), at most half full. Memory: 16 bytes per slot, so 32 to 64 bytes per element. The
 * all-zero hash is remapped, since zero marks an empty slot.
 */
final class Hash128Set {

    private long[] slots = new long[2 * 1024];
    private int size;

    /** Adds a hash; returns false when it was already present. */
    boolean add(long high, long low) {
        if (high == 0 && low == 0) {
            low = 1;
        }
        if (2 * (size + 1) > slots.length / 2) {
            grow();
        }
        return insert(slots, high, low);
    }

    private boolean insert(long[] table, long high, long low) {
        int mask = table.length / 2 - 1;
        int slot = (int) (low ^ (low >>> 32)) & mask;
        while (true) {
            long h = table[2 * slot];
            long l = table[2 * slot + 1];
            if (h == 0 && l == 0) {
                table[2 * slot] = high;
                table[2 * slot + 1] = low;
                if (table == slots) {
                    size++;
                }
                return true;
            }
            if (h == high && l == low) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }

    private void grow() {
        long[] old = slots;
        long[] bigger = new long[old.length * 2];
        for (int i = 0; i < old.length; i += 2) {
            if (old[i] != 0 || old[i + 1] != 0) {
                insert(bigger, old[i], old[i + 1]);
            }
        }
        slots = bigger;
    }

    int size() {
        return size;
    }

    long bytes() {
        return 8L * slots.length;
    }
}
