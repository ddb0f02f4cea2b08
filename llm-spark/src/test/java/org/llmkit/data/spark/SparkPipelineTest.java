package org.llmkit.data.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.Tokenizer;
import org.llmkit.data.DataFormatException;
import org.llmkit.data.Dataset;
import org.llmkit.data.MinHashLsh;
import org.llmkit.data.NearDedup;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.QualityRules;
import org.llmkit.data.ShardedTokenDataset;
import org.llmkit.data.StageReport;
import org.llmkit.data.TokenDataset;
import org.llmkit.data.WordListToxicityScorer;

/** The same pipeline in-process and on Spark local[2]: same kept documents, output and report counts. */
class SparkPipelineTest {

    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2,2]").appName("llm-spark-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                .config("spark.default.parallelism", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Every stage of llm-data on the test corpus; static so that the recipe captures only strings. */
    static Pipeline cleaning(String corpus) {
        return Pipeline.from(Dataset.jsonl(Path.of(corpus)))
                .normalize().dedup().nearDedup(0.8).language("en", "de").quality(QualityRules.gopher())
                .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
                .filter("too_long", d -> d.text().length() < 5_000)
                .skipMalformed().batchSize(16).threads(2);
    }

    @Test
    void keepsTheSameDocumentsWithTheSameReportAsInProcess() throws Exception {
        String corpus = dir.resolve("corpus").toString();
        Corpus.write(Path.of(corpus), 400, 3, 5);
        Path local = dir.resolve("local");
        PipelineReport expected = cleaning(corpus).writeTo(local);
        Path distributed = dir.resolve("spark");
        PipelineReport actual = SparkPipeline.on(spark).run(() -> cleaning(corpus), distributed.toString());

        assertThat(expected.count("read", "malformed")).as("the corpus has malformed lines").isGreaterThan(3);
        assertThat(expected.count("read", "missing_field")).isGreaterThan(3);
        assertThat(expected.count("dedup", "duplicate")).isGreaterThan(10);
        assertThat(expected.count("near_dedup", "near_duplicate")).isGreaterThan(10);
        assertThat(expected.count("language", "lang:fr")).isPositive();
        assertThat(expected.languageDistribution()).containsKeys("en", "de", "fr");
        assertThat(expected.droppedByReason()).containsKeys("quality/word_count", "toxicity/toxic");
        assertSameCounts(actual, expected);
        assertThat(actual.problems()).containsExactlyElementsOf(expected.problems());
        assertThat(concatenated(distributed.resolve("documents"))).as("documents, in order, byte for byte")
                .isEqualTo(Files.readString(local.resolve("documents.jsonl")));
        assertThat(distributed.resolve("report.json")).exists();
        assertThat(distributed.resolve("_temporary")).doesNotExist();
    }

    @Test
    void writesTheSamePackedSequencesAsInProcess() throws Exception {
        String corpus = dir.resolve("corpus").toString();
        Corpus.write(Path.of(corpus), 200, 4, 8);
        String tokenizer = org.llmkit.api.Fixtures.hfTiny().resolve("tokenizer").toString();
        PipelineRecipe recipe = () -> Pipeline.from(Dataset.jsonl(Path.of(corpus))).skipMalformed()
                .normalize().dedup().nearDedup(0.8).quality(QualityRules.gopher())
                .tokenize(Tokenizer.load(Path.of(tokenizer))).pack(48).split(0.8, 3).shardBytes(48 * 2 * 40);
        Path local = dir.resolve("local");
        Pipeline inProcess = recipe.build();
        PipelineReport expected = inProcess.writeTo(local);
        inProcess.plan().closeResources();
        Path distributed = dir.resolve("spark");
        PipelineReport actual = SparkPipeline.on(spark).run(recipe, distributed.toString());

        assertSameCounts(actual, expected);
        assertThat(actual.tokenHistogram()).isEqualTo(expected.tokenHistogram());
        for (String split : List.of("train", "validation")) {
            try (ShardedTokenDataset a = TokenDataset.open(distributed.resolve(split));
                 ShardedTokenDataset b = TokenDataset.open(local.resolve(split))) {
                assertThat(a.size()).as(split + " sequences").isEqualTo(b.size()).isGreaterThan(10);
                for (long i = 0; i < a.size(); i++) {
                    assertThat(a.get(i)).as(split + " sequence " + i).isEqualTo(b.get(i));
                }
                a.verify();
            }
            assertThat(actual.outputs().get(split).toString()).contains("sequences=" + ((java.util.Map<?, ?>)
                    expected.outputs().get(split)).get("sequences"));
        }
    }

    @Test
    void aChainOfNearDuplicatesKeepsOnlyItsEarliestDocumentOnBothBackends() throws Exception {
        Random random = new Random(3);
        List<String> a = words(random, 200);
        List<String> b = new ArrayList<>(a);
        List<String> c = new ArrayList<>(a);
        for (int p : new int[] {20, 60, 100}) {
            b.set(p, word(random));
            c.set(p, b.get(p));
        }
        for (int p : new int[] {140, 160, 180}) {
            c.set(p, word(random));
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            texts.add(String.join(" ", words(random, 150)));
        }
        texts.add(3, String.join(" ", c));   // C, then A much later, then B (linking them) last
        texts.add(12, String.join(" ", a));
        texts.add(String.join(" ", b));
        NearDedup settings = NearDedup.builder().threshold(0.8).permutations(512).build();
        MinHashLsh lsh = MinHashLsh.of(settings);
        byte[] sa = MinHashLsh.lowBytes(lsh.signature(texts.get(12)));
        byte[] sb = MinHashLsh.lowBytes(lsh.signature(texts.get(texts.size() - 1)));
        byte[] sc = MinHashLsh.lowBytes(lsh.signature(texts.get(3)));
        assertThat(lsh.linked(sa, sb) && lsh.linked(sb, sc)).as("A~B~C").isTrue();
        assertThat(lsh.linked(sa, sc)).as("A and C are not linked").isFalse();

        List<String> expected = new ArrayList<>();
        Pipeline.from(Dataset.of(texts)).nearDedup(settings).run(d -> expected.add(d.id()));
        PipelineReport report = SparkPipeline.on(spark).run(() -> Pipeline.from(Dataset.of(texts)).nearDedup(settings),
                dir.resolve("spark").toString());
        List<String> kept = new ArrayList<>();
        for (String line : concatenated(dir.resolve("spark/documents")).split("\n")) {
            kept.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("id").asText());
        }

        assertThat(expected).doesNotContain("12", Integer.toString(texts.size() - 1)).contains("3").hasSize(texts.size() - 2);
        assertThat(kept).containsExactlyElementsOf(expected);
        assertThat(report.count("near_dedup", "near_duplicate")).isEqualTo(2);
        assertThat(report.stage("near_dedup").details()).containsEntry("clusters", 1L);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedWithoutDuplicatingOutput() throws Exception {
        String corpus = dir.resolve("corpus").toString();
        Corpus.write(Path.of(corpus), 300, 2, 13);
        String marker = dir.resolve("failed-once").toString();
        PipelineRecipe recipe = () -> {
            AtomicInteger seen = new AtomicInteger(); // one per task: the recipe runs once per task
            return Pipeline.from(Dataset.jsonl(Path.of(corpus))).skipMalformed().normalize().dedup().nearDedup(0.8)
                    .map(doc -> {
                        TaskContext task = TaskContext.get();
                        if (task != null && task.partitionId() == 0 && task.attemptNumber() == 0
                                && seen.incrementAndGet() == 40) {
                            try {
                                Files.createFile(Path.of(marker));
                            } catch (IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                            throw new IllegalStateException("injected failure on the first attempt");
                        }
                        return doc;
                    });
        };
        PipelineReport expected = recipe.build().writeTo(dir.resolve("local"));
        PipelineReport actual = SparkPipeline.on(spark).run(recipe, dir.resolve("spark").toString());

        assertThat(Path.of(marker)).as("the first attempt failed after writing part of its output").exists();
        assertSameCounts(actual, expected);
        assertThat(concatenated(dir.resolve("spark/documents")))
                .isEqualTo(Files.readString(dir.resolve("local/documents.jsonl")));
    }

    @Test
    void aMalformedLineFailsTheRunWithTheSameErrorAsInProcessUnlessSkipped() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"text\": \"fine\"}\n{\"text\": \"broken\n{\"body\": \"no text\"}\n[1, 2]\n");
        String path = file.toString();
        Throwable inProcess = org.assertj.core.api.Assertions.catchThrowable(
                () -> Pipeline.from(Dataset.jsonl(Path.of(path))).collect());
        assertThatThrownBy(() -> SparkPipeline.on(spark).run(() -> Pipeline.from(Dataset.jsonl(Path.of(path))),
                dir.resolve("out").toString()))
                .isInstanceOf(DataFormatException.class).hasMessage(inProcess.getMessage());

        PipelineReport skipped = SparkPipeline.on(spark)
                .run(() -> Pipeline.from(Dataset.jsonl(Path.of(path))).skipMalformed(), dir.resolve("out").toString());
        PipelineReport expected = Pipeline.from(Dataset.jsonl(file)).skipMalformed().run(d -> { });
        assertThat(skipped.stage("read").droppedByReason()).containsExactly(
                java.util.Map.entry("malformed", 2L), java.util.Map.entry("missing_field", 1L));
        assertSameCounts(skipped, expected);
        assertThat(skipped.problems()).containsExactlyElementsOf(expected.problems());
    }

    @Test
    void readsHadoopPathsGivenAsInputInTheDatasetsFormat() throws Exception {
        Path corpus = dir.resolve("corpus");
        Corpus.write(corpus, 120, 2, 21);
        PipelineReport expected = Pipeline.from(Dataset.jsonl(corpus)).skipMalformed().dedup().writeTo(dir.resolve("local"));
        PipelineReport actual = SparkPipeline.on(spark).input(corpus.toUri().toString())
                .run(() -> Pipeline.from(Dataset.jsonl(Path.of("elsewhere"))).skipMalformed().dedup(),
                        dir.resolve("spark").toString());
        assertSameCounts(actual, expected);
        assertThat(concatenated(dir.resolve("spark/documents")))
                .isEqualTo(Files.readString(dir.resolve("local/documents.jsonl")));
    }

    static void assertSameCounts(PipelineReport actual, PipelineReport expected) {
        assertThat(actual.stages()).extracting(StageReport::name)
                .containsExactlyElementsOf(expected.stages().stream().map(StageReport::name).toList());
        for (int s = 0; s < expected.stages().size(); s++) {
            StageReport e = expected.stages().get(s);
            StageReport a = actual.stages().get(s);
            assertThat(a.in()).as(e.name() + " in").isEqualTo(e.in());
            assertThat(a.out()).as(e.name() + " out").isEqualTo(e.out());
            assertThat(a.droppedByReason()).as(e.name() + " drops, in order").containsExactlyEntriesOf(e.droppedByReason());
            java.util.Map<String, Object> details = new java.util.LinkedHashMap<>(e.details());
            details.remove("state_bytes");
            assertThat(a.details()).as(e.name() + " details").containsExactlyInAnyOrderEntriesOf(details);
        }
        assertThat(actual.languageDistribution()).isEqualTo(expected.languageDistribution());
    }

    /** The part files of an output folder, concatenated in name order. */
    static String concatenated(Path folder) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.sorted().toList()) {
                all.append(Files.readString(f));
            }
        }
        return all.toString();
    }

    private static List<String> words(Random random, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(word(random));
        }
        return out;
    }

    private static String word(Random random) {
        char[] chars = new char[6 + random.nextInt(4)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) ('a' + random.nextInt(26));
        }
        return new String(chars);
    }
}
