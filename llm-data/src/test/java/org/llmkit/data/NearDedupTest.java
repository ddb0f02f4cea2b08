package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Plants pairs at known Jaccard similarities (computed here, independently, on lower-cased 5-word
 * shingles) and checks recall and false drops against the targets.
 */
class NearDedupTest {

    private static final int SHINGLE = 5;

    @Test
    void findsAtLeast95PercentOfPairsAbove09AndDropsAtMost1PercentBelow05() throws Exception {
        Random random = new Random(7);
        List<String> texts = new ArrayList<>();
        List<Double> similarity = new ArrayList<>(); // per variant, its Jaccard similarity to its base
        int bases = 400;
        for (int b = 0; b < bases; b++) {
            List<String> base = Corpora.uniqueWords(random, 120 + random.nextInt(80));
            texts.add(String.join(" ", base));
            // even pairs: a shortened copy with at most one word changed (similarity 0.85-1);
            // odd pairs: a random share of words changed, from nearly identical to mostly different
            double changed = b % 2 == 0 ? 0 : random.nextDouble() * 0.3;
            List<String> variant = new ArrayList<>(base);
            if (b % 2 == 0) {
                int cut = random.nextInt(base.size() / 8);
                variant = new ArrayList<>(base.subList(0, base.size() - cut));
                if (random.nextBoolean()) {
                    variant.set(random.nextInt(variant.size()), Corpora.randomWord(random));
                }
            }
            for (int i = 0; i < variant.size(); i++) {
                if (random.nextDouble() < changed) {
                    variant.set(i, Corpora.randomWord(random));
                }
            }
            if (random.nextBoolean()) {
                variant.set(0, variant.get(0).toUpperCase(Locale.ROOT)); // case does not matter
            }
            String text = String.join(" ", variant);
            similarity.add(jaccard(shingles(base), shingles(variant)));
            texts.add(text);
        }
        List<String> ids = new ArrayList<>();
        PipelineReport report = Pipeline.from(Dataset.of(texts)).nearDedup(0.8).threads(2).batchSize(100)
                .run(d -> ids.add(d.id()));
        Set<String> kept = new HashSet<>(ids);

        int high = 0;
        int highDropped = 0;
        int low = 0;
        int lowDropped = 0;
        for (int b = 0; b < bases; b++) {
            boolean dropped = !kept.contains(Integer.toString(2 * b + 1));
            assertThat(kept).as("base documents are never dropped").contains(Integer.toString(2 * b));
            double s = similarity.get(b);
            if (s >= 0.9) {
                high++;
                highDropped += dropped ? 1 : 0;
            } else if (s < 0.5) {
                low++;
                lowDropped += dropped ? 1 : 0;
            }
        }
        assertThat(high).as("pairs at similarity >= 0.9").isGreaterThan(100);
        assertThat(low).as("pairs at similarity < 0.5").isGreaterThan(100);
        assertThat((double) highDropped / high).as("recall at >= 0.9").isGreaterThanOrEqualTo(0.95);
        assertThat((double) lowDropped / low).as("false drops below 0.5").isLessThanOrEqualTo(0.01);
        assertThat(report.count("near_dedup", "near_duplicate")).isEqualTo(2L * bases - kept.size());
        assertThat(report.stage("near_dedup").details()).containsEntry("bands", 14).containsEntry("rows", 9);
    }

    @Test
    void aChainOfNearDuplicatesWhoseEndsAreNotLinkedKeepsOnlyItsEarliestDocument() throws Exception {
        Random random = new Random(3);
        List<String> a = Corpora.uniqueWords(random, 200);
        List<String> b = new ArrayList<>(a);
        List<String> c = new ArrayList<>(a);
        for (int p : new int[] {20, 60, 100}) { // B: 3 words changed (Jaccard to A 181/211 = 0.86)
            b.set(p, Corpora.randomWord(random));
            c.set(p, b.get(p));
        }
        for (int p : new int[] {140, 160, 180}) { // C: 3 more (to B 0.86, to A 166/226 = 0.73)
            c.set(p, Corpora.randomWord(random));
        }
        String other = String.join(" ", Corpora.uniqueWords(random, 200));
        // C comes first, then an unrelated document, then A, then B which links them
        List<String> texts = List.of(String.join(" ", c), other, String.join(" ", a), String.join(" ", b));
        NearDedup settings = NearDedup.builder().threshold(0.8).permutations(512).build(); // estimates ± 0.02
        MinHashLsh lsh = MinHashLsh.of(settings);
        byte[][] sig = texts.stream().map(t -> MinHashLsh.lowBytes(lsh.signature(t))).toArray(byte[][]::new);
        assertThat(lsh.linked(sig[0], sig[3])).as("C~B").isTrue();
        assertThat(lsh.linked(sig[2], sig[3])).as("A~B").isTrue();
        assertThat(lsh.linked(sig[0], sig[2])).as("C~A").isFalse();

        List<String> ids = new ArrayList<>();
        PipelineReport report = Pipeline.from(Dataset.of(texts)).nearDedup(settings).threads(2).batchSize(2)
                .run(d -> ids.add(d.id()));

        // the greedy rule (drop when similar to an earlier kept document) would keep C, other and A
        assertThat(ids).containsExactly("0", "1");
        assertThat(report.count("near_dedup", "near_duplicate")).isEqualTo(2);
        assertThat(report.stage("near_dedup").details()).containsEntry("clusters", 1L)
                .containsEntry("indexed_documents", 4L);
    }

    @Test
    void defaultLayoutFor08Is14BandsOf9RowsAndCatchesSimilarity09WithProbabilityAbove099() {
        NearDedup settings = NearDedup.of(0.8);
        assertThat(settings.bands()).isEqualTo(14);
        assertThat(settings.rows()).isEqualTo(9);
        assertThat(settings.candidateProbability(0.9)).isGreaterThan(0.99);
        assertThat(settings.candidateProbability(0.5)).isLessThan(0.03);
    }

    @Test
    void builderNamesTheBadSetting() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NearDedup.builder().bands(20, 10).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bands × rows (20 × 10 = 200)")
                .hasMessageContaining("permutations (128)");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NearDedup.of(1.5))
                .hasMessageContaining("threshold must be in (0, 1], was 1.5");
    }

    static Set<String> shingles(List<String> words) {
        Set<String> out = new HashSet<>();
        for (int i = 0; i + SHINGLE <= words.size(); i++) {
            out.add(String.join(" ", words.subList(i, i + SHINGLE)).toLowerCase(Locale.ROOT));
        }
        return out;
    }

    static double jaccard(Set<String> a, Set<String> b) {
        Set<String> union = new HashSet<>(a);
        union.addAll(b);
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        return (double) both.size() / union.size();
    }
}
