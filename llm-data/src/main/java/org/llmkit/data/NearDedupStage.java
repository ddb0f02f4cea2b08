package org.llmkit.data;

import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Drops near-duplicates as {@code near_duplicate}: every document of a near-duplicate cluster but
 * its earliest (see {@link NearDedup} for the cluster definition).
 *
 * <p>Clusters are only known once every document has been seen, so this stage {@link #plans()}: in
 * the planning pass it indexes the signature of every live document, joining each to the clusters
 * of the indexed documents it shares a band with and is similar enough to (a union-find over
 * document numbers whose roots are the earliest members); {@link #endPlanning()} turns that into the
 * set of stream positions to drop, which the output pass applies.
 */
final class NearDedupStage implements Stage {

    static final String NEAR_DUPLICATE = "near_duplicate";

    private final NearDedup settings;
    private final MinHasher hasher;
    private boolean planning;
    private LshIndex index;
    private int[] parent = new int[0];   // union-find over indexed documents; a root is its cluster's earliest
    private long[] ordinals = new long[0]; // stream position of each indexed document
    private BitSet drop;                 // stream positions to drop, once planned
    private long indexed;
    private long clusters;
    private long stateBytes;

    NearDedupStage(NearDedup settings) {
        this.settings = settings;
        this.hasher = new MinHasher(settings);
    }

    @Override
    public String name() {
        return "near_dedup";
    }

    @Override
    public boolean plans() {
        return true;
    }

    @Override
    public void beginPlanning() {
        planning = true;
        index = new LshIndex(settings);
        parent = new int[1024];
        ordinals = new long[1024];
        drop = null;
    }

    @Override
    public void endPlanning() {
        int n = index.documents();
        drop = new BitSet();
        BitSet roots = new BitSet();
        for (int doc = 0; doc < n; doc++) {
            int root = find(doc);
            if (root != doc) {
                roots.set(root);
                drop.set(Math.toIntExact(ordinals[doc]));
            }
        }
        indexed = n;
        clusters = roots.cardinality();
        stateBytes = index.bytes() + 12L * parent.length;
        planning = false;
        index = null;
        parent = new int[0];
        ordinals = new long[0];
    }

    @Override
    public void process(Batch batch, Workers workers) {
        if (planning) {
            observe(batch, workers);
            return;
        }
        if (drop == null) {
            throw new IllegalStateException("near_dedup ran without its planning pass");
        }
        for (int i = 0; i < batch.size(); i++) {
            if (batch.alive(i) && drop.get(Math.toIntExact(batch.firstOrdinal + i))) {
                batch.dropReason[i] = NEAR_DUPLICATE;
            }
        }
    }

    /** Planning: indexes the live documents of a batch and joins each to the clusters it is similar to. */
    private void observe(Batch batch, Workers workers) {
        int[][] signatures = new int[batch.size()][];
        int[][] keys = new int[batch.size()][];
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                signatures[i] = hasher.signature(batch.docs[i].text());
                if (signatures[i] != null) {
                    keys[i] = index.bandKeys(signatures[i]);
                }
            }
        });
        double threshold = settings.threshold();
        for (int i = 0; i < batch.size(); i++) {
            if (signatures[i] == null) {
                continue;
            }
            int doc = index.documents();
            if (doc == parent.length) {
                parent = Arrays.copyOf(parent, 2 * doc);
                ordinals = Arrays.copyOf(ordinals, 2 * doc);
            }
            parent[doc] = doc;
            ordinals[doc] = batch.firstOrdinal + i;
            int[] signature = signatures[i];
            index.forEachCandidate(keys[i], candidate -> {
                // a candidate already in this document's cluster needs no check: connectivity is what counts
                if (find(candidate) != find(doc) && index.estimate(signature, candidate) >= threshold) {
                    union(doc, candidate);
                }
                return true;
            });
            index.add(signature, keys[i]);
        }
    }

    private int find(int doc) {
        while (parent[doc] != doc) {
            parent[doc] = parent[parent[doc]];
            doc = parent[doc];
        }
        return doc;
    }

    private void union(int a, int b) {
        int ra = find(a);
        int rb = find(b);
        if (ra < rb) {
            parent[rb] = ra;
        } else if (rb < ra) {
            parent[ra] = rb;
        }
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("threshold", settings.threshold());
        details.put("permutations", settings.permutations());
        details.put("shingle_size", settings.shingleSize());
        details.put("bands", settings.bands());
        details.put("rows", settings.rows());
        details.put("indexed_documents", indexed);
        details.put("clusters", clusters);
        details.put("state_bytes", stateBytes);
        return details;
    }
}
