package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Tokenizer;

/** Self-improvement rounds generate, filter, audit and fine-tune; with a checker they teach a skill. */
class SelfImprovementTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static LanguageModel tinyLlama3() throws Exception {
        return LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))
                .withTokenizer(Tokenizer.load(Fixtures.hfTiny().resolve("tokenizer")));
    }

    @Test
    void twoRoundsWriteAuditableFilesWhoseCountsAddUp(@TempDir Path out) throws Exception {
        try (LanguageModel m = tinyLlama3()) {
            List<String> real = List.of("The cat sat on the mat.", "A dog ran in the park.", "Birds sing at dawn.",
                    "Rain falls on the roof.");
            SelfImprovementReport r = SelfImprovement.of(m)
                    .template("Tell me about {thing}.", Map.of("thing", List.of("cats", "dogs", "rain")), 4, 3)
                    .samplesPerPrompt(3).sampling(g -> g.maxNewTokens(12).temperature(1.0))
                    .filter(p -> p.normalize().dedup().filter("length", d -> d.metadata().getOrDefault("response",
                            "real data is long enough").toString().length() >= 8))
                    .scorer(SampleScorer.logLikelihood(m), -7.0)
                    .realData(real).maxSyntheticShare(0.5).heldOut(List.of("The sun rises in the east."))
                    .fineTune(ft -> ft.learningRate(1e-3).batchSize(2).maxSteps(3))
                    .sequenceLength(16).rounds(2).patience(5).outputDir(out).run();

            assertThat(r.rounds()).hasSize(2);
            assertThat(r.metric()).isEqualTo("held_out_loss");
            for (SelfImprovementRound round : r.rounds()) {
                Path dir = out.resolve("round-" + round.round());
                assertThat(round.generated()).isEqualTo(12);
                assertThat(round.kept() + round.droppedTotal()).isEqualTo(round.generated());
                assertThat(lines(dir.resolve("generated.jsonl"))).hasSize(round.generated());
                assertThat(lines(dir.resolve("kept.jsonl"))).hasSize(round.kept());
                List<JsonNode> dropped = lines(dir.resolve("dropped.jsonl"));
                assertThat(dropped).hasSize(round.droppedTotal());
                assertThat(dropped).allSatisfy(d -> assertThat(d.get("reason").asText()).isNotBlank());
                assertThat(round.trainedOn()).isLessThanOrEqualTo(real.size());   // share 0.5: at most as many as real
                assertThat(lines(dir.resolve("training.jsonl"))).hasSize(round.trainedOn() + real.size());
                JsonNode json = JSON.readTree(dir.resolve("round.json").toFile());
                assertThat(json.get("metric_before").asDouble()).isEqualTo(round.metricBefore());
                assertThat(json.get("metric_after").asDouble()).isEqualTo(round.metricAfter());
                assertThat(round.training().steps()).isEqualTo(3);
            }
            assertThat(r.rounds().get(1).metricBefore()).isEqualTo(r.rounds().get(0).metricAfter());
            JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
            assertThat(report.get("baseline").asDouble()).isEqualTo(r.baseline());
            assertThat(report.get("rounds")).hasSize(2);
        }
    }

    /**
     * Rejection sampling with a checker (the STaR / ReST recipe): a tiny model must learn a secret code from 20
     * letters to digits ({@code "c>"} answers {@code CODE[c]}); it is warm-started on ten of the pairs (one per
     * digit), samples answers for all twenty, only the verified answers are kept and trained on, and greedy
     * accuracy rises.
     */
    @Test
    void filteredSelfGeneratedDataTeachesASkillTheModelOnlyPartlyKnew(@TempDir Path out) throws Exception {
        Tokenizer tokenizer = Tokenizer.load(Fixtures.hfTiny().resolve("tokenizer"));
        ModelConfig c = ModelConfig.builder("llama").vocabSize(tokenizer.vocabSize()).hiddenSize(64)
                .intermediateSize(128).numLayers(2).numHeads(4).numKvHeads(2).maxPositionEmbeddings(64).build();
        List<String> prompts = new ArrayList<>();
        List<String> warmStart = new ArrayList<>();
        for (int i = 0; i < CODE.length; i++) {
            String letter = String.valueOf((char) ('a' + i));
            prompts.add(letter + ">");
            if (i % 2 == 0) {
                warmStart.add(letter + ">" + CODE[i] + "\n");
            }
        }
        try (LanguageModel m = LanguageModel.create(c, 5).withTokenizer(tokenizer)) {
            org.llmkit.data.TokenDataset warm = org.llmkit.data.Pipeline
                    .from(org.llmkit.data.Dataset.of(repeat(warmStart, 20))).tokenize(tokenizer).pack(24)
                    .collectTokens();
            FineTuner.of(m).learningRate(3e-3).warmupSteps(10).batchSize(8).maxSteps(80).train(warm);
            double before = accuracy(m, prompts);

            SelfImprovementReport r = SelfImprovement.of(m).prompts(prompts).samplesPerPrompt(16)
                    .sampling(g -> g.maxNewTokens(2).topK(10).temperature(1.5).stop("\n"))
                    .format((p, resp) -> p + resp.strip() + "\n")
                    .filter(p -> p.dedup())
                    .scorer((p, resp) -> resp.strip().equals(answer(p)) ? 1 : 0, 1)
                    .realData(repeat(warmStart, 3)).maxSyntheticShare(0.8)
                    .evaluate("accuracy", mm -> accuracy(mm, prompts), true)
                    .fineTune(ft -> ft.learningRate(3e-3).batchSize(4).epochs(20))
                    .sequenceLength(12).rounds(2).patience(2).outputDir(out).run();

            double after = r.finalMetric();
            System.out.printf("self-improvement on a secret letter-to-digit code: greedy accuracy %.2f -> %.2f (%s)%n", before,
                    after, r.rounds().stream().map(x -> x.kept() + "/" + x.generated() + " kept, accuracy "
                            + x.metricAfter()).toList());
            assertThat(r.baseline()).isEqualTo(before);
            assertThat(before).isLessThanOrEqualTo(0.6);
            assertThat(after).isGreaterThanOrEqualTo(before + 0.3);
        }
    }

    @Test
    void badInputIsRefusedBeforeAnyWork(@TempDir Path out) throws Exception {
        try (LanguageModel m = tinyLlama3()) {
            assertThatThrownBy(() -> SelfImprovement.of(m).prompts(List.of()).heldOut(List.of("x y z"))
                    .outputDir(out).run()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no prompts");
            assertThatThrownBy(() -> SelfImprovement.of(m).prompts(List.of("Hi")).rounds(0).heldOut(List.of("x y"))
                    .outputDir(out).run()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rounds");
            assertThatThrownBy(() -> SelfImprovement.of(m).prompts(List.of("Hi")).heldOut(List.of("x y"))
                    .outputDir(out).run()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("realData");
            assertThat(out).isEmptyDirectory();
        }
    }

    @Test
    void aFilterThatDropsEverythingStopsBeforeFineTuningOnNothing(@TempDir Path out) throws Exception {
        try (LanguageModel m = tinyLlama3()) {
            float[] before = m.block().parameters().values().iterator().next().getArray().toFloatArray();
            assertThatThrownBy(() -> SelfImprovement.of(m).prompts(List.of("Hello", "Once")).samplesPerPrompt(2)
                    .sampling(g -> g.maxNewTokens(4)).filter(p -> p.filter("never", d -> false))
                    .maxSyntheticShare(1.0).heldOut(List.of("The sun rises.")).outputDir(out).run())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dropped all 4 generated samples").hasMessageContaining("never:never");
            assertThat(lines(out.resolve("round-1/dropped.jsonl"))).hasSize(4);
            assertThat(m.block().parameters().values().iterator().next().getArray().toFloatArray()).isEqualTo(before);
        }
    }

    private static final int[] CODE = {7, 2, 9, 4, 0, 8, 1, 5, 3, 6, 4, 9, 6, 0, 2, 8, 5, 7, 1, 3};

    private static String answer(String prompt) {
        return Integer.toString(CODE[prompt.charAt(0) - 'a']);
    }

    private static double accuracy(LanguageModel m, List<String> prompts) {
        int right = 0;
        for (String p : prompts) {
            String out = m.generate(p).maxNewTokens(2).greedy().stop("\n").text();
            right += out.strip().equals(answer(p)) ? 1 : 0;
        }
        return right / (double) prompts.size();
    }

    private static List<String> repeat(List<String> texts, int times) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            out.addAll(texts);
        }
        return out;
    }

    private static List<JsonNode> lines(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }
}
