package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.Tokenizer;

/** The whole chain, JSONL in and token shards plus report out, on a corpus with planted problems. */
class PipelineWriteTest {

    @TempDir
    Path dir;

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = Tokenizer.load(Fixtures.tokenizer());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    /** 60 good documents, 10 exact copies, 1 malformed line, 5 near-identical German, 4 too short, 2 insulting. */
    private Path corpus() throws Exception {
        Random random = new Random(11);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        List<String> good = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            good.add(Corpora.prose(random, 80 + random.nextInt(40)));
            lines.add(json.writeValueAsString(java.util.Map.of("text", good.get(i), "url", "https://x/" + i)));
        }
        for (int i = 0; i < 10; i++) {
            lines.add(json.writeValueAsString(java.util.Map.of("text", good.get(i))));
        }
        lines.add("{\"text\": \"unterminated");
        for (int i = 0; i < 5; i++) {
            lines.add(json.writeValueAsString(java.util.Map.of("text", ("Der Ausschuss wird seinen Bericht über die neue "
                    + "Bahnstrecke nächste Woche veröffentlichen, nach langen Anhörungen in vielen Städten. ").repeat(6) + i)));
        }
        for (int i = 0; i < 4; i++) {
            lines.add(json.writeValueAsString(java.util.Map.of("text", "Buy now, item " + i + ".")));
        }
        for (int i = 0; i < 2; i++) {
            lines.add(json.writeValueAsString(java.util.Map.of("text", Corpora.prose(random, 80)
                    + " You stupid idiot, you moron, shit. " + i)));
        }
        Path file = dir.resolve("corpus.jsonl");
        Files.write(file, lines);
        return file;
    }

    @Test
    void cleansTokenizesPacksAndSplitsWithAReportThatAccountsForEveryDocument() throws Exception {
        Path out = dir.resolve("out");
        PipelineReport report = Pipeline.from(Dataset.jsonl(corpus()))
                .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher())
                .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
                .skipMalformed().threads(2).batchSize(16)
                .tokenize(tokenizer).pack(64).split(0.8, 1)
                .writeTo(out);

        assertThat(report.documentsIn()).isEqualTo(82);
        assertThat(report.documentsIn()).isEqualTo(report.documentsOut() + report.documentsDropped());
        assertThat(report.count("read", "malformed")).isEqualTo(1);
        assertThat(report.count("dedup", "duplicate")).isEqualTo(10);
        // the German documents differ only in their last character: near-duplicates of the first one
        assertThat(report.count("near_dedup", "near_duplicate")).isEqualTo(4);
        assertThat(report.count("language", "lang:de")).isEqualTo(1);
        assertThat(report.count("quality", "word_count")).isEqualTo(4);
        assertThat(report.count("toxicity", "toxic")).as(report.droppedByReason().toString()).isEqualTo(2);
        assertThat(report.documentsOut()).isEqualTo(60);
        assertThat(report.problems()).singleElement().asString().contains("corpus.jsonl:71");

        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> train = (java.util.Map<String, Object>) report.outputs().get("train");
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> validation = (java.util.Map<String, Object>) report.outputs().get("validation");
        assertThat((long) train.get("documents") + (long) validation.get("documents")).isEqualTo(60);
        assertThat((long) validation.get("documents")).isBetween(4L, 24L);

        int eos = tokenizer.eosTokenId().getAsInt();
        try (ShardedTokenDataset shards = TokenDataset.open(out.resolve("train"))) {
            shards.verify();
            assertThat(shards.size()).isEqualTo((long) train.get("sequences")).isPositive();
            assertThat(shards.vocabSize()).isEqualTo(tokenizer.vocabSize());
            long separators = 0;
            for (long s = 0; s < shards.size(); s++) {
                separators += java.util.Arrays.stream(shards.get(s)).filter(t -> t == eos).count();
            }
            assertThat(separators).as("one EOS per packed document, the last may fall in the tail")
                    .isBetween((long) train.get("documents") - 1, (long) train.get("documents"));
            StringBuilder decoded = new StringBuilder();
            for (long q = 0; q < Math.min(6, shards.size()); q++) {
                decoded.append(tokenizer.decode(shards.get(q)));
            }
            assertThat(decoded.toString()).as("documents end with the EOS token").contains(".<|eot_id|>");
        }
        assertThat(out.resolve("report.json")).exists();
        assertThat(out.resolve("report.md")).content().contains("| dedup | 81 | 71 | 10 | duplicate: 10 |");
        assertThat(Files.readAllBytes(out.resolve("token-lengths.png"))).startsWith(0x89, 'P', 'N', 'G');
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(json.path("documents_in").asLong()).isEqualTo(82);
        assertThat(json.path("token_histogram")).isNotEmpty();
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void withoutTokenizationTheKeptDocumentsAreWrittenAsJsonlWithTheirMetadata() throws Exception {
        Path out = dir.resolve("jsonl");
        PipelineReport report = Pipeline.from(Dataset.jsonl(corpus())).dedup().skipMalformed().writeTo(out);
        List<String> lines = Files.readAllLines(out.resolve("documents.jsonl"));
        assertThat(lines).hasSize((int) report.documentsOut()).hasSize(71);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.path("id").asText()).isEqualTo("corpus.jsonl:1");
        assertThat(first.path("url").asText()).isEqualTo("https://x/0");
    }

    @Test
    void collectTokensPacksInMemoryWithEosBetweenDocuments() throws Exception {
        TokenDataset tokens = Pipeline.from(Dataset.of(List.of("Hello world.", "Second text here."))).tokenize(tokenizer)
                .pack(4).collectTokens();
        int[] hello = tokenizer.encode("Hello world.");
        int[] second = tokenizer.encode("Second text here.");
        int eos = tokenizer.eosTokenId().getAsInt();
        List<Integer> stream = new ArrayList<>();
        for (int t : hello) {
            stream.add(t);
        }
        stream.add(eos);
        for (int t : second) {
            stream.add(t);
        }
        stream.add(eos);
        long full = stream.size() / 4;
        assertThat(tokens.size()).isEqualTo(full);
        for (int s = 0; s < full; s++) {
            assertThat(tokens.get(s)).containsExactly(stream.subList(4 * s, 4 * s + 4).stream().mapToInt(i -> i).toArray());
        }
    }

    @Test
    void settingsThatDoNotFitTogetherAreNamedInTheTerminalMethod() {
        Dataset data = Dataset.of(List.of("a"));
        assertThatThrownBy(() -> Pipeline.from(data).tokenize(tokenizer).dedup().pack(8).collectTokens())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("stage dedup(...) comes after tokenize");
        assertThatThrownBy(() -> Pipeline.from(data).tokenize(tokenizer).writeTo(dir.resolve("x")))
                .hasMessageContaining("add pack(sequenceLength)");
        assertThatThrownBy(() -> Pipeline.from(data).pack(8).collectTokens())
                .hasMessageContaining("pack(sequenceLength) needs tokenize(tokenizer)");
        assertThatThrownBy(() -> Pipeline.from(data).threads(0).collect())
                .hasMessageContaining("threads must be in [1, 1024], was 0");
        assertThatThrownBy(() -> Pipeline.from(data).tokenize(tokenizer).collect())
                .hasMessageContaining("use collectTokens()");
        assertThatThrownBy(() -> Pipeline.from(data).split(1.5).writeTo(dir.resolve("y")))
                .hasMessageContaining("split trainFraction must be in (0, 1), was 1.5");
    }

    @Test
    void userFiltersAndMapsRunInOrderAndNameTheirDrops() throws Exception {
        PipelineReport report = Pipeline.from(Dataset.of(List.of("keep me", "drop me", "keep too")))
                .map(d -> d.withText(d.text().toUpperCase(java.util.Locale.ROOT)))
                .filter("has_drop", d -> !d.text().contains("DROP"))
                .filter(d -> d.text().length() > 7)
                .run(d -> assertThat(d.text()).isEqualTo("KEEP TOO"));
        assertThat(report.count("has_drop", "has_drop")).isEqualTo(1);
        assertThat(report.count("filter", "filtered")).isEqualTo(1);
        assertThat(report.documentsOut()).isEqualTo(1);
    }
}
