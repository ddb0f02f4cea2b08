package org.llmkit.data;

import java.util.LinkedHashMap;
import java.util.Map;

/** Drops near-duplicates as {@code near_duplicate}; see {@link NearDedup}. */
final class NearDedupStage implements Stage {

    static final String NEAR_DUPLICATE = "near_duplicate";

    private final NearDedup settings;
    private final MinHasher hasher;
    private LshIndex index;

    NearDedupStage(NearDedup settings) {
        this.settings = settings;
        this.hasher = new MinHasher(settings);
    }

    @Override
    public String name() {
        return "near_dedup";
    }

    @Override
    public void start() {
        index = new LshIndex(settings);
    }

    @Override
    public void process(Batch batch, Workers workers) {
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
        for (int i = 0; i < batch.size(); i++) {
            if (signatures[i] == null) {
                continue;
            }
            if (index.bestSimilarity(signatures[i], keys[i], settings.threshold()) >= settings.threshold()) {
                batch.dropReason[i] = NEAR_DUPLICATE;
            } else {
                index.add(signatures[i], keys[i]);
            }
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
        details.put("indexed_documents", index.documents());
        details.put("state_bytes", index.bytes());
        return details;
    }
}
