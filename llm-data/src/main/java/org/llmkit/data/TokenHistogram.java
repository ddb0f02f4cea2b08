package org.llmkit.data;

import java.util.ArrayList;
import java.util.List;

/** Counts of tokens per document in power-of-two bins: [1, 2), [2, 4), [4, 8), ... */
final class TokenHistogram {

    private final long[] counts = new long[32];
    private long documents;
    private long min = Long.MAX_VALUE;
    private long max;
    private long sum;

    void add(int tokens) {
        counts[31 - Integer.numberOfLeadingZeros(tokens)]++;
        documents++;
        sum += tokens;
        min = Math.min(min, tokens);
        max = Math.max(max, tokens);
    }

    List<PipelineReport.Bin> bins() {
        return bins(counts);
    }

    /** Documents per bin: bin {@code b} counts documents of [2^b, 2^(b+1)) tokens; 32 bins. */
    long[] counts() {
        return counts.clone();
    }

    static List<PipelineReport.Bin> bins(long[] counts) {
        List<PipelineReport.Bin> bins = new ArrayList<>();
        int first = -1;
        int last = -1;
        for (int b = 0; b < counts.length; b++) {
            if (counts[b] > 0) {
                first = first < 0 ? b : first;
                last = b;
            }
        }
        for (int b = Math.max(0, first); first >= 0 && b <= last; b++) {
            bins.add(new PipelineReport.Bin(1L << b, 1L << (b + 1), counts[b]));
        }
        return bins;
    }

    long documents() {
        return documents;
    }

    long min() {
        return documents == 0 ? 0 : min;
    }

    long max() {
        return max;
    }

    double mean() {
        return documents == 0 ? 0 : (double) sum / documents;
    }
}
