package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * What ZeRO moves between ranks, over {@link Collectives}: gradients of flat ranges reduced into every rank's
 * full buffer (stages 0-1, all-reduce) or into each owner's shard (stages 2-3, reduce-scatter), updated shards
 * all-gathered into the replicas (stages 1-2), and a segment's weights gathered just in time (stage 3).
 */
final class ShardExchange {
    private final FlatLayout layout;
    private final List<Rank> ranks;
    private final Collectives collectives;
    private final int stage;

    /**
     * @param layout the flat layout
     * @param ranks the ranks, in rank order
     * @param collectives the communication backend
     * @param stage the ZeRO stage
     */
    ShardExchange(FlatLayout layout, List<Rank> ranks, Collectives collectives, int stage) {
        this.layout = layout;
        this.ranks = ranks;
        this.collectives = collectives;
        this.stage = stage;
    }

    /** @return whether parameters are sharded (stage 3) and must be gathered per segment */
    boolean gathersParameters() {
        return stage >= 3;
    }

    /**
     * Reduces every rank's {@code .grad} of the given flat ranges into the ranks' gradient buffers (adding to
     * what they hold) and frees the {@code .grad} tensors. Call with grad mode off.
     *
     * @param ranges contiguous flat ranges
     */
    void reduce(List<FlatLayout.Range> ranges) {
        for (FlatLayout.Range range : ranges) {
            List<NDManager> scopes = new ArrayList<>();
            try {
                List<NDArray> buckets = new ArrayList<>();
                for (Rank rank : ranks) {
                    NDManager scope = rank.manager().newSubManager();
                    scopes.add(scope);
                    buckets.add(bucket(rank, range, scope));
                }
                if (stage <= 1) {
                    collectives.allReduce(buckets);
                    for (int r = 0; r < ranks.size(); r++) {
                        try (NDArray target = ranks.get(r).gradients().get(LocalCollectives.slice(range.start(),
                                range.end()))) {
                            target.addi(buckets.get(r));
                        }
                    }
                } else {
                    long[] counts = new long[ranks.size()];
                    List<NDArray> outputs = new ArrayList<>();
                    for (int r = 0; r < ranks.size(); r++) {
                        FlatLayout.Range piece = range.intersect(layout.shardOf(r));
                        counts[r] = Math.max(0, piece.length());
                        outputs.add(counts[r] == 0 ? null
                                : scopes.get(r).zeros(new Shape(counts[r]), ranks.get(r).gradients().getDataType()));
                    }
                    collectives.reduceScatter(buckets, counts, outputs);
                    for (int r = 0; r < ranks.size(); r++) {
                        if (counts[r] > 0) {
                            Rank rank = ranks.get(r);
                            FlatLayout.Range local = range.intersect(layout.shardOf(r)).minus(rank.gradientOrigin());
                            try (NDArray target = rank.gradients().get(LocalCollectives.slice(local.start(), local.end()))) {
                                target.addi(outputs.get(r));
                            }
                        }
                    }
                }
            } finally {
                scopes.forEach(NDManager::close);
            }
        }
    }

    // one rank's gradients of a flat range, flattened in the gradient buffers' type; frees the .grad tensors
    private NDArray bucket(Rank rank, FlatLayout.Range range, NDManager scope) {
        DataType gradType = rank.gradients().getDataType();
        NDArray bucket = scope.zeros(new Shape(range.length()), gradType);
        TensorType type = rank.model().tensorType();
        for (FlatLayout.Slot s : layout.slots()) {
            FlatLayout.Range r = s.range().intersect(range);
            if (r.isEmpty()) {
                continue;
            }
            NDArray g = rank.gradientOf(s.name(), scope);
            if (g != null) {
                NDArray flat = gradType == DataType.FLOAT32 ? type.float32(g) : g;
                try (NDArray part = bucket.get(LocalCollectives.slice(r.start() - range.start(), r.end() - range.start()));
                        NDArray values = flat.reshape(s.range().length())) {
                    part.set(new NDIndex("..."), values);
                }
            }
            if (stage < 3) {
                rank.dropGradient(s.name());
            }
        }
        return bucket;
    }

    /** All-gathers every rank's updated parameter shard into every replica's flat buffer (stages 1-2). */
    void gatherParameters() {
        long[] counts = new long[ranks.size()];
        List<NDArray> inputs = new ArrayList<>();
        List<NDArray> outputs = new ArrayList<>();
        for (Rank rank : ranks) {
            counts[rank.index()] = layout.shardSize();
            inputs.add(rank.ownedParams());
            outputs.add(rank.flatParams());
        }
        collectives.allGather(inputs, counts, outputs);
        inputs.forEach(NDArray::close);
    }

    /**
     * Gathers a segment's weights into every rank's skeleton (stage 3).
     *
     * @param segment the segment
     * @param scopes one manager per rank that owns the gathered buffers until {@link #release}
     * @param record whether the weights record gradients
     */
    void gather(FlatLayout.Segment segment, List<NDManager> scopes, boolean record) {
        try (NoGradient off = NoGradient.scope()) {
            List<List<NDArray>> perRank = new ArrayList<>();
            ranks.forEach(r -> perRank.add(new ArrayList<>()));
            for (FlatLayout.Range range : segment.ranges()) {
                long[] counts = new long[ranks.size()];
                List<NDArray> inputs = new ArrayList<>();
                List<NDArray> outputs = new ArrayList<>();
                for (Rank rank : ranks) {
                    FlatLayout.Range own = layout.shardOf(rank.index());
                    FlatLayout.Range piece = range.intersect(own);
                    counts[rank.index()] = Math.max(0, piece.length());
                    NDManager scope = scopes.get(rank.index());
                    inputs.add(piece.isEmpty() ? null : rank.ownedParams().get(LocalCollectives.slice(
                            piece.start() - own.start(), piece.end() - own.start())));
                    NDArray out = rank.model().tensorType().zeros(scope, new Shape(range.length()));
                    outputs.add(out);
                    perRank.get(rank.index()).add(out);
                }
                collectives.allGather(inputs, counts, outputs);
                inputs.stream().filter(a -> a != null).forEach(NDArray::close);
            }
            for (Rank rank : ranks) {
                rank.install(segment, perRank.get(rank.index()), record);
            }
        }
    }

    /**
     * Takes a segment's gathered weights out of every rank (stage 3), after reducing their gradients when
     * {@code reduce} is set.
     *
     * @param segment the segment
     * @param scopes the managers given to {@link #gather}; closed here
     * @param reduce whether the segment ran backward
     */
    void release(FlatLayout.Segment segment, List<NDManager> scopes, boolean reduce) {
        try (NoGradient off = NoGradient.scope()) {
            if (reduce) {
                reduce(segment.ranges());
            }
            ranks.forEach(r -> r.release(segment));
        }
        scopes.forEach(NDManager::close);
    }

}
