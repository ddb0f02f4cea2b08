package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;

class GenerationTaskTest {
    private static final String TEMPLATE = "Q: {context}\nA:";
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static String greedy(String context) {
        return model.generate(TEMPLATE.replace("{context}", context)).greedy().maxNewTokens(6).stop("\n").text().strip();
    }

    @Test
    void batchedGreedyPredictionsEqualSingleGenerationAndFeedTheMetrics() {
        String first = greedy("What is two plus two?");
        String second = greedy("Name a colour.");
        String third = greedy("Say hello");
        List<GenerationExample> examples = List.of(
                new GenerationExample("What is two plus two?", List.of("nothing like it", first)),
                GenerationExample.of("Name a colour.", "blue green red"),
                GenerationExample.of("Say hello", third));
        GenerationTask task = GenerationTask.of("gen", examples).template(TEMPLATE).stop("\n").maxNewTokens(6)
                .batchSize(2);
        TaskResult r = task.evaluate(model);
        assertThat(r.generations()).containsExactly(first, second, third);
        assertThat(r.metrics().keySet()).containsExactly("exact_match", "bleu", "rouge1", "rouge2", "rougeL", "examples");
        double expectedExact = (1 + (second.equals("blue green red") ? 1 : 0) + 1) / 3.0;
        assertThat(r.metrics().get("exact_match")).isCloseTo(expectedExact, within(1e-12));
        double rougeL = (1 + Metrics.rougeL("blue green red", second) + 1) / 3.0;
        assertThat(r.metrics().get("rougeL")).isCloseTo(rougeL, within(1e-12));
        assertThat(r.metrics().get("bleu")).isCloseTo(Metrics.bleuMultiReference(
                List.of(List.of("nothing like it", first), List.of("blue green red"), List.of(third)),
                List.of(first, second, third)), within(1e-12));
        assertThat(task.prompt(1)).isEqualTo("Q: Name a colour.\nA:");
        EvalReport report = Evaluator.of(model).task(task.metrics(GenerationMetric.EXACT_MATCH)).run();
        assertThat(report.metric("gen", "exact_match")).isEqualTo(r.metrics().get("exact_match"));
    }

    @Test
    void badSettingsNameTheOption() {
        GenerationTask task = GenerationTask.of("g", List.of(GenerationExample.of("a", "b")));
        assertThatThrownBy(() -> task.maxNewTokens(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxNewTokens must be at least 1, was 0");
        assertThatThrownBy(() -> task.stop("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stop strings must be non-empty");
        assertThatThrownBy(() -> task.template("no slot")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly once");
        assertThatThrownBy(() -> GenerationTask.of("g", List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dataset is empty");
        assertThatThrownBy(() -> new GenerationExample("a", List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one reference");
    }
}
