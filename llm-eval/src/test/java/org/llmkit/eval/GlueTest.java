package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.DataFormatException;

class GlueTest {
    private static final String MRPC_HEADER = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static Path write(Path dir, String file, String text) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file), text);
        return dir;
    }

    @Test
    void mrpcReadsOfficialLayoutAndReportsAccuracyAndF1OfItsPredictions(@TempDir Path tmp) throws Exception {
        Path dir = write(tmp.resolve("MRPC"), "dev.tsv", MRPC_HEADER
                + "1\t1\t2\tHe did n't stop ( ever ) .\tHe never stopped , he said .\n"
                + "0\t3\t4\tThe cat sat.\tStocks fell sharply.\n"
                + "1\t5\t6\tIt rained all day.\tIt was raining the whole day.\n");
        MultipleChoiceTask task = Glue.mrpc(dir);
        assertThat(task.name()).isEqualTo("mrpc");
        assertThat(task.prompt(0)).isEqualTo("Sentence 1: He didn't stop (ever).\nSentence 2: He never stopped, he said."
                + "\nQuestion: Do both sentences mean the same thing?\nAnswer:");
        assertThat(task.examples()).extracting(Example::gold).containsExactly(1, 0, 1);
        assertThat(task.examples().get(0).choices()).containsExactly("no", "yes");

        TaskResult result = task.evaluate(model);
        int[] gold = {1, 0, 1};
        int[] pred = result.examples().stream().mapToInt(ExampleScore::predicted).toArray();
        assertThat(result.metrics().keySet()).containsExactly("acc", "f1", "examples");
        assertThat(result.metrics().get("acc")).isCloseTo(Metrics.accuracy(gold, pred), within(0.0));
        assertThat(result.metrics().get("f1")).isCloseTo(Metrics.f1(gold, pred), within(0.0));
        EvalReport report = Evaluator.of(model).task(task).run();
        assertThat(report.metric("mrpc", "f1")).isEqualTo(result.metrics().get("f1"));
    }

    @Test
    void rteMapsLabelsToTrueFalseAndDrawsShotsFromTrainSplit(@TempDir Path tmp) throws Exception {
        String header = "index\tsentence1\tsentence2\tlabel\n";
        Path dir = write(tmp.resolve("RTE"), "dev.tsv", header
                + "0\tA man is sleeping.\tA person rests.\tentailment\n"
                + "1\tThe shop is closed.\tThe shop is open.\tnot_entailment\n");
        write(dir, "train.tsv", header + "0\tIt is noon.\tIt is night.\tnot_entailment\n");
        MultipleChoiceTask task = Glue.rte(dir).fewShot(1, 0);
        assertThat(task.examples()).extracting(Example::gold).containsExactly(0, 1);
        assertThat(task.prompt(0)).isEqualTo("It is noon.\nQuestion: It is night. True or False?\nAnswer: False\n\n"
                + "A man is sleeping.\nQuestion: A person rests. True or False?\nAnswer:");
        assertThat(task.evaluate(model).metrics().keySet()).containsExactly("acc", "examples");
    }

    @Test
    void malformedLineFailsNamingFileAndLine(@TempDir Path tmp) throws Exception {
        Path dir = write(tmp, "dev.tsv", MRPC_HEADER + "1\t1\t2\ta\tb\n0\t3\tonly three\n");
        assertThatThrownBy(() -> Glue.mrpc(dir)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("dev.tsv:3").hasMessageContaining("3 tab-separated field(s), the header has 5");
    }

    @Test
    void labelOutsideTheTaskSetFailsNamingTheLabelAndLine(@TempDir Path tmp) throws Exception {
        Path dir = write(tmp, "dev.tsv", MRPC_HEADER + "2\t1\t2\ta\tb\n");
        assertThatThrownBy(() -> Glue.mrpc(dir)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("dev.tsv:2").hasMessageContaining("label '2' in column 'Quality' is not one of [0, 1]");
    }

    @Test
    void emptyOrMissingSplitAndWrongHeaderFailClearly(@TempDir Path tmp) throws Exception {
        Path headerOnly = write(tmp.resolve("a"), "dev.tsv", MRPC_HEADER);
        assertThatThrownBy(() -> Glue.mrpc(headerOnly)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("no data rows");
        assertThatThrownBy(() -> Glue.mrpc(tmp.resolve("missing"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("dev.tsv");
        Path rteAsMrpc = write(tmp.resolve("b"), "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n");
        assertThatThrownBy(() -> Glue.mrpc(rteAsMrpc)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("the header lacks column 'Quality'");
    }

    @Test
    void f1MetricNeedsTwoChoices() {
        MultipleChoiceTask three = MultipleChoiceTask.of("t", List.of(new Example("q", List.of("a", "b", "c"), 0)));
        assertThatThrownBy(() -> three.metrics(TaskMetric.F1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("example 0 has 3");
        assertThatThrownBy(() -> three.metrics(TaskMetric.ACC, TaskMetric.ACC))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without repeats");
    }
}
