package org.llmkit.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;
import org.llmkit.samples.plan.Plan;
import org.llmkit.samples.plan.PlanSettings;
import org.llmkit.samples.plan.PlanSummary;

/** Runs the reduced plan once and checks what it leaves in the run folder. */
class PlanTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path temp;
    static Path run;
    static PlanSummary summary;
    static String progress;

    @BeforeAll
    static void runQuickPlan() throws Exception {
        run = temp.resolve("run");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            summary = Plan.run(PlanSettings.quick(), run, log);
        }
        progress = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(progress);
    }

    @Test
    void reportsArePresentAndParse() throws Exception {
        JsonNode pipeline = JSON.readTree(run.resolve("data/report.json").toFile());
        JsonNode eval = JSON.readTree(run.resolve("eval/report.json").toFile());
        JsonNode summaryJson = JSON.readTree(run.resolve("summary.json").toFile());
        assertThat(pipeline.toString()).contains("dedup", "near_dedup", "language", "quality", "toxicity");
        assertThat(eval.path("format").asText()).isEqualTo("llmkit-eval-report");
        assertThat(eval.path("results").path("perplexity").path("perplexity").asDouble()).isGreaterThan(1);
        assertThat(eval.path("results").path("story_next_sentence").has("acc")).isTrue();
        assertThat(eval.path("results").path("latency").path("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(summaryJson.path("format").asText()).isEqualTo(Plan.FORMAT);
        assertThat(run.resolve("data/report.md")).isNotEmptyFile();
        assertThat(run.resolve("eval/report.md")).isNotEmptyFile();
        assertThat(run.resolve("summary.md")).isNotEmptyFile();
        List<String> metrics = Files.readAllLines(run.resolve("train/metrics.jsonl"));
        assertThat(metrics).hasSizeGreaterThanOrEqualTo((int) PlanSettings.quick().steps());
        for (String line : metrics) {
            JSON.readTree(line);
        }
    }

    @Test
    void pipelineDroppedTheNoiseItWasGiven() throws Exception {
        JsonNode dropped = JSON.readTree(run.resolve("summary.json").toFile()).path("pipeline")
                .path("dropped_by_reason");
        assertThat(dropped.path("dedup/duplicate").asLong()).isPositive();
        assertThat(dropped.path("toxicity/toxic").asLong()).isPositive();
        try (TokenDataset train = TokenDataset.open(run.resolve("data/train"))) {
            assertThat(train.sequenceLength()).hasValue(PlanSettings.quick().sequenceLength());
            assertThat(train.size()).isPositive();
        }
    }

    @Test
    void lossCurveIsAPng() throws Exception {
        byte[] head = Files.readAllBytes(run.resolve("train/loss.png"));
        assertThat(head).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void validationLossWentDown() {
        assertThat(summary.finalValidationLoss()).isLessThan(summary.initialValidationLoss() - 0.5);
    }

    @Test
    void savedModelLoadsWithItsTokenizerAndGenerates() throws Exception {
        try (LanguageModel m = LanguageModel.load(run.resolve("model"))) {
            assertThat(m.hasTokenizer()).isTrue();
            String text = m.generate("Once upon a time,").maxNewTokens(12).greedy().text();
            assertThat(text).isNotBlank();
            assertThat(text).isEqualTo(summary.sample().substring(0, Math.min(summary.sample().length(),
                    text.length())));
        }
    }

    @Test
    void serverAnsweredTheChatRequest() throws Exception {
        JsonNode response = JSON.readTree(run.resolve("serve/response.json").toFile());
        assertThat(response.path("object").asText()).isEqualTo("chat.completion");
        assertThat(response.path("choices").path(0).path("message").path("content").asText()).isNotEmpty();
        assertThat(summary.serveAnswer()).isNotEmpty();
    }

    @Test
    void progressNamesEveryStep() {
        assertThat(progress).contains("[1/7] corpus", "[3/7] pipeline", "[4/7] train", "[6/7] eval", "[7/7] serve",
                "done in");
    }
}
