package org.llmkit.train;

import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DeepSpeed-style flattening of the trainable parameters for ZeRO: every parameter is a slot of one flat
 * vector of Ψ scalars, laid out in forward order (embeddings, layer 0 ... layer N-1, final norm and head),
 * padded to {@code ranks * shard} so each rank owns one equal, contiguous shard
 * {@code [rank * shard, (rank + 1) * shard)}. A segment is the part of the model one layer-by-layer step runs
 * (the embedding, one decoder layer, the head): the unit parameters are gathered and gradients reduced in.
 */
final class FlatLayout {
    /**
     * One parameter's place in the flat vector.
     *
     * @param name HF name
     * @param shape the parameter's shape
     * @param range its scalars in the flat vector
     * @param decay whether weight decay applies
     */
    record Slot(String name, Shape shape, Range range, boolean decay) { }

    /**
     * A half-open range of flat positions.
     *
     * @param start first position
     * @param end one past the last
     */
    record Range(long start, long end) {
        long length() {
            return end - start;
        }

        boolean isEmpty() {
            return end <= start;
        }

        Range intersect(Range other) {
            return new Range(Math.max(start, other.start), Math.min(end, other.end));
        }

        /** @return this range relative to {@code origin} (positions inside a buffer that starts there) */
        Range minus(long origin) {
            return new Range(start - origin, end - origin);
        }
    }

    /**
     * The parameters one layer-by-layer step runs with.
     *
     * @param name e.g. {@code layer 3}
     * @param slots the parameters it reads (the head also reads tied embeddings)
     * @param ranges the same as merged contiguous flat ranges
     */
    record Segment(String name, List<Slot> slots, List<Range> ranges) { }

    private final List<Slot> slots;
    private final Map<String, Slot> byName = new LinkedHashMap<>();
    private final long size;
    private final int ranks;
    private final long shard;
    private final List<Segment> segments;

    private FlatLayout(List<Slot> slots, long size, int ranks, List<Segment> segments) {
        this.slots = List.copyOf(slots);
        slots.forEach(s -> byName.put(s.name(), s));
        this.size = size;
        this.ranks = ranks;
        this.shard = (size + ranks - 1) / ranks;
        this.segments = List.copyOf(segments);
    }

    /**
     * Lays out a trainable set in forward order.
     *
     * @param trainable the parameters (names, shapes, decay flags)
     * @param layers the model's decoder layer count
     * @param tiedHead whether the head reads the token embedding
     * @param ranks data-parallel ranks
     * @return the layout
     * @throws IllegalArgumentException when there are fewer trainable scalars than ranks
     */
    static FlatLayout of(TrainableSet trainable, int layers, boolean tiedHead, int ranks) {
        List<List<TrainableSet.Entry>> groups = new ArrayList<>();
        for (int i = 0; i < layers + 2; i++) {
            groups.add(new ArrayList<>());
        }
        for (TrainableSet.Entry e : trainable.entries()) {
            groups.get(segmentOf(e.name(), layers)).add(e);
        }
        List<Slot> slots = new ArrayList<>();
        List<List<Slot>> bySegment = new ArrayList<>();
        long offset = 0;
        for (List<TrainableSet.Entry> group : groups) {
            List<Slot> own = new ArrayList<>();
            for (TrainableSet.Entry e : group) {
                Shape shape = e.array().getShape();
                Slot s = new Slot(e.name(), shape, new Range(offset, offset + shape.size()), e.decay());
                offset += shape.size();
                slots.add(s);
                own.add(s);
            }
            bySegment.add(own);
        }
        if (offset < ranks) {
            throw new IllegalArgumentException("sharding over " + ranks + " ranks needs at least " + ranks
                    + " trainable parameters, but the model trains " + offset + "; use fewer devices");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < bySegment.size(); i++) {
            List<Slot> used = new ArrayList<>(bySegment.get(i));
            if (i == layers + 1 && tiedHead) {
                bySegment.get(0).stream().filter(s -> s.name().equals("model.embed_tokens.weight")).forEach(used::add);
            }
            String name = i == 0 ? "embedding" : i == layers + 1 ? "head" : "layer " + (i - 1);
            segments.add(new Segment(name, used, merge(used)));
        }
        return new FlatLayout(slots, offset, ranks, segments);
    }

    // 0 = embeddings, 1..layers = decoder layers, layers + 1 = final norm and head
    private static int segmentOf(String name, int layers) {
        String prefix = "model.layers.";
        if (name.startsWith(prefix)) {
            int dot = name.indexOf('.', prefix.length());
            return 1 + Integer.parseInt(name.substring(prefix.length(), dot));
        }
        return name.startsWith("model.embed_") ? 0 : layers + 1;
    }

    private static List<Range> merge(List<Slot> used) {
        List<Range> sorted = new ArrayList<>();
        used.stream().map(Slot::range).sorted((a, b) -> Long.compare(a.start(), b.start())).forEach(r -> {
            Range last = sorted.isEmpty() ? null : sorted.get(sorted.size() - 1);
            if (last != null && last.end() == r.start()) {
                sorted.set(sorted.size() - 1, new Range(last.start(), r.end()));
            } else {
                sorted.add(r);
            }
        });
        return sorted;
    }

    /** @return every slot, in flat order */
    List<Slot> slots() {
        return slots;
    }

    /**
     * @param name a parameter name
     * @return its slot
     */
    Slot slot(String name) {
        return byName.get(name);
    }

    /** @return Ψ, the number of trainable scalars */
    long size() {
        return size;
    }

    /** @return the padded length {@code ranks * shard} of full flat buffers */
    long padded() {
        return shard * ranks;
    }

    /** @return the number of ranks */
    int ranks() {
        return ranks;
    }

    /** @return scalars per shard, {@code ceil(Ψ / ranks)} */
    long shardSize() {
        return shard;
    }

    /**
     * @param rank a rank
     * @return the flat positions it owns (the last shard may extend into padding)
     */
    Range shardOf(int rank) {
        return new Range(rank * shard, (rank + 1) * shard);
    }

    /** @return the segments in forward order: embedding, layers, head */
    List<Segment> segments() {
        return segments;
    }

    /** @return the whole (unpadded) vector as one range */
    Range all() {
        return new Range(0, size);
    }

    /**
     * @param within a flat range
     * @return the sub-ranges of it where weight decay applies
     */
    List<Range> decayRuns(Range within) {
        List<Range> runs = new ArrayList<>();
        for (Slot s : slots) {
            Range r = s.range().intersect(within);
            if (s.decay() && !r.isEmpty()) {
                Range last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
                if (last != null && last.end() == r.start()) {
                    runs.set(runs.size() - 1, new Range(last.start(), r.end()));
                } else {
                    runs.add(r);
                }
            }
        }
        return runs;
    }
}
