package org.llmkit.data;

/**
 * A slice of the stream travelling through the stages: documents in source order, each either
 * alive or dropped with a reason, and their tokens once tokenized.
 */
final class Batch {

    final Document[] docs;
    final String[] dropReason;
    /** Position in the stream of documents read (malformed records not counted) of {@code docs[0]}. */
    final long firstOrdinal;
    int[][] tokens;

    Batch(Document[] docs, long firstOrdinal) {
        this.docs = docs;
        this.dropReason = new String[docs.length];
        this.firstOrdinal = firstOrdinal;
    }

    int size() {
        return docs.length;
    }

    boolean alive(int i) {
        return dropReason[i] == null;
    }

    int aliveCount() {
        int n = 0;
        for (String reason : dropReason) {
            if (reason == null) {
                n++;
            }
        }
        return n;
    }
}
