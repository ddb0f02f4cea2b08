package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.Dataset;
import org.llmkit.data.TokenDataset;

class EvaluatorTest {
    private static LanguageModel model;
    private static int[][] ids;
    private static double referenceLoss;
    private static final MultipleChoiceTask TASK = MultipleChoiceTask.of("tiny", List.of(
            new Example("The sky is", List.of("blue", "green"), 0),
            new Example("Dogs can", List.of("bark", "fly"), 0)));

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
        var reference = Fixtures.reference();
        ids = Fixtures.inputIds(reference);
        referenceLoss = reference.get("loss_step0").asDouble();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void runReportsPerplexityAndTaskMetricsAndWritesJsonAndMarkdown(@TempDir Path dir) throws Exception {
        EvalReport report = Evaluator.of(model).perplexity(TokenDataset.of(ids)).contextLength(64).task(TASK).run();
        assertThat(report.metric("perplexity", "perplexity"))
                .isCloseTo(Math.exp(referenceLoss), within(1e-5 * Math.exp(referenceLoss)));
        assertThat(report.metric("perplexity", "tokens")).isEqualTo(22.0);
        assertThat(report.metric("perplexity", "stride")).isEqualTo(64.0);
        double acc = TASK.evaluate(model).metrics().get("acc");
        assertThat(report.metric("tiny", "acc")).isEqualTo(acc);

        report.writeTo(dir.resolve("out"));
        JsonNode json = new ObjectMapper().readTree(dir.resolve("out/report.json").toFile());
        assertThat(json.get("format").asText()).isEqualTo("llmkit-eval-report");
        assertThat(json.get("version").asInt()).isEqualTo(1);
        assertThat(json.at("/results/tiny/acc").asDouble()).isEqualTo(acc);
        assertThat(json.at("/results/perplexity/perplexity").asDouble())
                .isEqualTo(report.metric("perplexity", "perplexity"));
        assertThat(Files.readString(dir.resolve("out/report.md"))).contains("| perplexity | tokens | 22 |");
        try (var files = Files.list(dir.resolve("out"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("report.json", "report.md", "report.html", "charts");
        }
    }

    @Test
    void textHeldOutIsEncodedWithTheModelsTokenizer() {
        List<String> texts = List.of("The quick brown fox jumps over the lazy dog.", "A second, shorter text.");
        List<int[]> encoded = new ArrayList<>();
        texts.forEach(t -> encoded.add(model.tokenizer().encode(t)));
        PerplexityResult expected = Perplexity.of(model).contextLength(8).stride(4).compute(encoded);
        EvalReport report = Evaluator.of(model).perplexity(Dataset.of(texts)).contextLength(8).stride(4).run();
        assertThat(report.metric("perplexity", "perplexity")).isCloseTo(expected.perplexity(), within(1e-12));
        assertThat(report.metric("perplexity", "tokens")).isEqualTo((double) expected.tokens());
    }

    @Test
    void reportIsImmutableAndNamesWhatIsMissing() {
        EvalReport report = new EvalReport("m", java.util.Map.of("t", java.util.Map.of("acc", 0.5)));
        assertThatThrownBy(() -> report.results().get("t").put("acc", 1.0))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> report.metric("mrpc", "f1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no task 'mrpc'").hasMessageContaining("[t]");
        assertThatThrownBy(() -> report.metric("t", "f1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("metrics: [acc]");
    }

    @Test
    void runValidatesTheCombination() {
        assertThatThrownBy(() -> Evaluator.of(model).run())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("nothing to evaluate");
        assertThatThrownBy(() -> Evaluator.of(model).task(TASK).stride(4).run())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("call perplexity");
        assertThatThrownBy(() -> Evaluator.of(model).task(TASK).task(TASK).run())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'tiny' is used twice");
        assertThatThrownBy(() -> Evaluator.of(model).perplexity(TokenDataset.of(ids)).contextLength(8).stride(9).run())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stride must be in [1, 8]");
        assertThatThrownBy(() -> Evaluator.of(model).perplexity(TokenDataset.of(ids)).contextLength(5000).run())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 4096]");
        assertThatThrownBy(() -> Evaluator.of(model).perplexity(Dataset.of(List.of())).run())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }

    @Test
    void textInputsNeedATokenizer() throws Exception {
        try (LanguageModel bare = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            assertThatThrownBy(() -> Evaluator.of(bare).task(TASK).run())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("no tokenizer");
            EvalReport tokensOnly = Evaluator.of(bare).perplexity(TokenDataset.of(ids)).run();
            assertThat(tokensOnly.metric("perplexity", "tokens")).isEqualTo(22.0);
        }
    }
}
