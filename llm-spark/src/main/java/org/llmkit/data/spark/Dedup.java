package org.llmkit.data.spark;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.llmkit.data.MinHashLsh;
import org.llmkit.data.NearDedup;
import org.llmkit.data.PipelinePlan;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

/**
 * The dedup steps on Spark, each giving the set of ordinals to drop (a bit set, broadcast and
 * applied without moving documents):
 * <ul>
 *   <li>exact: group the live documents by {@link PipelinePlan#exactDedupKey(String)} (a
 *       {@code reduceByKey} to the smallest ordinal); every other member is a duplicate;</li>
 *   <li>near: MinHash signatures and band keys per document; group by band key; in each bucket
 *       link members in ordinal order as {@link MinHashLsh#linked} says, emitting only the links
 *       that join two groups (a spanning forest: same connectivity, fewer edges); then connected
 *       components ({@link ConnectedComponents}); every member but a component's smallest ordinal
 *       is a near-duplicate. This is exactly the in-process cluster rule of {@link NearDedup}.</li>
 * </ul>
 */
final class Dedup {

    /**
     * What a dedup step decided and what the report says about it.
     *
     * @param bits ordinals: the kept ones when {@code kept}, else the dropped ones
     * @param kept whether {@code bits} lists kept ordinals (exact dedup) or dropped ones (near dedup)
     * @param documents distinct texts (exact) or indexed documents (near)
     * @param clusters near-duplicate clusters of two or more documents
     */
    record Decision(BitSet bits, boolean kept, long documents, long clusters) implements Serializable {
        private static final long serialVersionUID = 1L;

        boolean drops(long ordinal) {
            return kept != bits.get(index(ordinal));
        }
    }

    /** A 128-bit key. */
    record Key(long high, long low) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** A document's compact signature in a band bucket. */
    record Member(long ordinal, byte[] signature) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private Dedup() {
    }

    static Decision exact(JavaRDD<Rec> docs) {
        JavaPairRDD<Key, Long> firsts = docs.filter(Rec::isAlive)
                .mapToPair(r -> {
                    long[] k = PipelinePlan.exactDedupKey(r.doc.text());
                    return new Tuple2<>(new Key(k[0], k[1]), r.ordinal);
                })
                .reduceByKey(Math::min);
        BitSet kept = toBitSet(firsts.values());
        return new Decision(kept, true, kept.cardinality(), 0);
    }

    static Decision near(JavaRDD<Rec> docs, NearDedup settings) {
        MinHashLsh lsh = MinHashLsh.of(settings);
        JavaRDD<Tuple2<Member, int[]>> signed = docs.filter(Rec::isAlive)
                .flatMap(r -> {
                    int[] signature = lsh.signature(r.doc.text());
                    return signature == null ? List.<Tuple2<Member, int[]>>of().iterator()
                            : List.of(new Tuple2<>(new Member(r.ordinal, MinHashLsh.lowBytes(signature)),
                                    lsh.bandKeys(signature))).iterator();
                })
                .persist(StorageLevel.MEMORY_AND_DISK());
        long indexed = signed.count();
        JavaPairRDD<Long, Long> edges = signed
                .flatMapToPair(t -> {
                    List<Tuple2<Integer, Member>> out = new ArrayList<>();
                    for (int key : distinct(t._2())) {
                        out.add(new Tuple2<>(key, t._1()));
                    }
                    return out.iterator();
                })
                .groupByKey()
                .flatMapToPair(bucket -> links(bucket._2(), lsh));
        JavaPairRDD<Long, Long> components = ConnectedComponents.of(edges);
        signed.unpersist(false);
        BitSet drop = toBitSet(components.keys());
        long clusters = components.values().distinct().count();
        components.unpersist(false);
        return new Decision(drop, false, indexed, clusters);
    }

    private static int[] distinct(int[] keys) {
        return java.util.Arrays.stream(keys).distinct().toArray();
    }

    /** The links of one bucket that join two groups, as (larger ordinal, smaller ordinal). */
    private static Iterator<Tuple2<Long, Long>> links(Iterable<Member> bucket, MinHashLsh lsh) {
        List<Member> members = new ArrayList<>();
        bucket.forEach(members::add);
        if (members.size() < 2) {
            return java.util.Collections.emptyIterator();
        }
        members.sort(Comparator.comparingLong(Member::ordinal));
        int n = members.size();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        List<Tuple2<Long, Long>> out = new ArrayList<>();
        for (int j = 1; j < n; j++) {
            for (int i = 0; i < j; i++) {
                int ri = find(parent, i);
                int rj = find(parent, j);
                if (ri != rj && lsh.linked(members.get(i).signature(), members.get(j).signature())) {
                    parent[Math.max(ri, rj)] = Math.min(ri, rj);
                    out.add(new Tuple2<>(members.get(j).ordinal(), members.get(i).ordinal()));
                }
            }
        }
        return out.iterator();
    }

    private static int find(int[] parent, int x) {
        while (parent[x] != x) {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        return x;
    }

    static int index(long ordinal) {
        if (ordinal > Integer.MAX_VALUE - 64) {
            throw new IllegalStateException("ordinal " + ordinal + " is beyond the 2^31 documents a Spark dedup step "
                    + "tracks; split the corpus into several runs");
        }
        return (int) ordinal;
    }

    /** Gathers ordinals into one bit set: a bit set per partition, OR-ed in a tree. */
    static BitSet toBitSet(JavaRDD<Long> ordinals) {
        return ordinals.treeAggregate(new BitSet(), (set, o) -> {
            set.set(index(o));
            return set;
        }, (a, b) -> {
            a.or(b);
            return a;
        });
    }
}
