package org.llmkit.data.spark;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;

/**
 * Connected components of an undirected graph given as edges, by alternating Large-Star and
 * Small-Star (Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014): both
 * keep connectivity and the graph becomes a forest of stars centred on each component's smallest
 * node in O(log² n) rounds, a chain of n nodes included.
 */
final class ConnectedComponents {

    /** More rounds than any graph of 2^31 nodes needs. */
    static final int MAX_ROUNDS = 200;

    private ConnectedComponents() {
    }

    /**
     * Returns, for every node of the edges that is not its component's smallest, (node, smallest
     * node of its component). The result is persisted; unpersist it when done.
     */
    static JavaPairRDD<Long, Long> of(JavaPairRDD<Long, Long> edges) {
        JavaPairRDD<Long, Long> current = edges.filter(e -> !e._1().equals(e._2()))
                .mapToPair(ConnectedComponents::oriented).distinct().persist(StorageLevel.MEMORY_AND_DISK());
        for (int round = 0; round < MAX_ROUNDS; round++) {
            if (isStarForest(current)) {
                return current;
            }
            JavaPairRDD<Long, Long> next = smallStar(largeStar(current)).persist(StorageLevel.MEMORY_AND_DISK());
            next.count();
            current.unpersist(false);
            current = next;
        }
        throw new IllegalStateException("connected components did not converge in " + MAX_ROUNDS + " rounds");
    }

    /** (larger, smaller). */
    private static Tuple2<Long, Long> oriented(Tuple2<Long, Long> e) {
        return e._1() > e._2() ? e : new Tuple2<>(e._2(), e._1());
    }

    /** Every edge (child, centre) with each child having one centre and no centre being a child: one shuffle. */
    private static boolean isStarForest(JavaPairRDD<Long, Long> edges) {
        // per node: 1 per edge it is the child of, 1_000_000 if it is some edge's centre
        return edges.flatMapToPair(e -> List.of(new Tuple2<>(e._1(), 1L), new Tuple2<>(e._2(), 1_000_000L)).iterator())
                .reduceByKey((a, b) -> a % 1_000_000 + b % 1_000_000 + Math.max(a / 1_000_000, b / 1_000_000) * 1_000_000)
                .filter(node -> node._2() % 1_000_000 > 1 || node._2() % 1_000_000 == 1 && node._2() >= 1_000_000)
                .isEmpty();
    }

    /** Links every larger neighbour of a node to the smallest node of its closed neighbourhood. */
    private static JavaPairRDD<Long, Long> largeStar(JavaPairRDD<Long, Long> edges) {
        return edges.flatMapToPair(e -> List.of(e, e.swap()).iterator())
                .groupByKey()
                .flatMapToPair(node -> {
                    long u = node._1();
                    long m = u;
                    for (long v : node._2()) {
                        m = Math.min(m, v);
                    }
                    List<Tuple2<Long, Long>> out = new ArrayList<>();
                    for (long v : node._2()) {
                        if (v > u) {
                            out.add(new Tuple2<>(v, m));
                        }
                    }
                    return out.iterator();
                });
    }

    /** Links a node and its smaller neighbours to the smallest of them. */
    private static JavaPairRDD<Long, Long> smallStar(JavaPairRDD<Long, Long> edges) {
        return edges.mapToPair(ConnectedComponents::oriented)
                .groupByKey()
                .flatMapToPair(node -> {
                    long u = node._1();
                    long m = u;
                    for (long v : node._2()) {
                        m = Math.min(m, v);
                    }
                    List<Tuple2<Long, Long>> out = new ArrayList<>();
                    if (u != m) {
                        out.add(new Tuple2<>(u, m));
                    }
                    for (long v : node._2()) {
                        if (v != m) {
                            out.add(new Tuple2<>(v, m));
                        }
                    }
                    return out.iterator();
                })
                .distinct();
    }
}
