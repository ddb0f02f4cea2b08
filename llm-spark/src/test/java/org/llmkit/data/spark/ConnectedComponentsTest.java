package org.llmkit.data.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** Large-Star/Small-Star against a union-find on the driver. */
class ConnectedComponentsTest {

    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("cc-test").config("spark.ui.enabled", "false")
                .config("spark.default.parallelism", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void everyNodeGetsTheSmallestNodeOfItsComponentOnChainsStarsAndRandomGraphs() {
        Random random = new Random(9);
        List<Tuple2<Long, Long>> edges = new ArrayList<>();
        for (long i = 1000; i < 1032; i++) { // a chain of 33 nodes, in shuffled id order
            edges.add(new Tuple2<>(i + 1, i));
        }
        for (long leaf = 2001; leaf < 2050; leaf++) { // a star around its largest node
            edges.add(new Tuple2<>(2050L, leaf));
        }
        for (int e = 0; e < 80; e++) { // sparse random graph over 100 nodes: many small components
            edges.add(new Tuple2<>((long) random.nextInt(100) + 5000, (long) random.nextInt(100) + 5000));
        }
        java.util.Collections.shuffle(edges, random);

        Map<Long, Long> expected = unionFind(edges);
        JavaPairRDD<Long, Long> result = ConnectedComponents.of(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelizePairs(edges, 2));
        Map<Long, Long> actual = new HashMap<>(result.collectAsMap());

        expected.entrySet().removeIf(e -> e.getKey().equals(e.getValue())); // smallest nodes are not listed
        assertThat(actual).isEqualTo(expected);
        assertThat(actual.get(1032L)).isEqualTo(1000L);
        assertThat(actual.get(2001L)).isNull();
        assertThat(actual.get(2050L)).isEqualTo(2001L);
    }

    private static Map<Long, Long> unionFind(List<Tuple2<Long, Long>> edges) {
        Map<Long, Long> parent = new HashMap<>();
        for (Tuple2<Long, Long> e : edges) {
            long a = find(parent, e._1());
            long b = find(parent, e._2());
            parent.put(Math.max(a, b), Math.min(a, b));
        }
        Map<Long, Long> out = new HashMap<>();
        for (Long node : new ArrayList<>(parent.keySet())) {
            out.put(node, find(parent, node));
        }
        return out;
    }

    private static long find(Map<Long, Long> parent, long x) {
        parent.putIfAbsent(x, x);
        while (parent.get(x) != x) {
            x = parent.get(x);
        }
        return x;
    }
}
