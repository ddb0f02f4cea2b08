package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.DataFormatException;

/** All nine GLUE tasks from mini files in the official layout, and the GLUE score. */
class GlueBenchmarkTest {
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    /** Two or three rows per task, in each task's own column layout. */
    static Path miniGlue(Path root) throws Exception {
        write(root.resolve("CoLA/dev.tsv"), "gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\n"
                + "gj04\t0\t*\tThe more we study verbs, the crazier they get get.\n"
                + "cj99\t1\t\tBill left.\n");
        write(root.resolve("SST-2/dev.tsv"), "sentence\tlabel\nit 's a charming journey .\t1\n"
                + "unflinchingly bleak and desperate\t0\n");
        write(root.resolve("MRPC/dev.tsv"), "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                + "1\t1\t2\tHe left early .\tHe went home early .\n0\t3\t4\tThe cat sat .\tStocks fell .\n");
        write(root.resolve("STS-B/dev.tsv"), "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1"
                + "\tsentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man plays a flute."
                + "\tA man plays a flute.\t5.000\n1\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA cat eats."
                + "\tA plane lands.\t0.200\n2\tmain-news\tMSRvid\t2012test\t0002\tnone\tnone\tA dog runs.\tA dog is"
                + " running fast.\t3.800\n");
        write(root.resolve("QQP/dev.tsv"), "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                + "1\t1\t2\tHow do I cook rice?\tWhat is the way to cook rice?\t1\n"
                + "2\t3\t4\tWhy is the sky blue?\tWho won the cup?\t0\n");
        String mnliHeader = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse"
                + "\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
        write(root.resolve("MNLI/dev_matched.tsv"), mnliHeader
                + "0\t1\t1e\tfiction\t(x)\t(y)\t(X)\t(Y)\tThe door is open.\tThe door is not shut\tentailment\tentailment\n"
                + "1\t2\t2n\tfiction\t(x)\t(y)\t(X)\t(Y)\tHe ran.\tHe was late.\tneutral\tneutral\n"
                + "2\t3\t3c\tfiction\t(x)\t(y)\t(X)\t(Y)\tIt is day.\tIt is night.\tcontradiction\tcontradiction\n");
        write(root.resolve("MNLI/dev_mismatched.tsv"), mnliHeader
                + "0\t4\t4e\tletters\t(x)\t(y)\t(X)\t(Y)\tShe sang loudly.\tShe sang.\tentailment\tentailment\n"
                + "1\t5\t5c\tletters\t(x)\t(y)\t(X)\t(Y)\tAll birds fly.\tNo bird flies.\tcontradiction\tcontradiction\n");
        write(root.resolve("QNLI/dev.tsv"), "index\tquestion\tsentence\tlabel\n"
                + "0\tWhat is the capital of France?\tParis is the capital of France.\tentailment\n"
                + "1\tWho wrote Hamlet?\tThe river is long.\tnot_entailment\n");
        write(root.resolve("RTE/dev.tsv"), "index\tsentence1\tsentence2\tlabel\n"
                + "0\tA man is sleeping.\tA person rests.\tentailment\n"
                + "1\tThe shop is closed.\tThe shop is open.\tnot_entailment\n");
        write(root.resolve("WNLI/dev.tsv"), "index\tsentence1\tsentence2\tlabel\n"
                + "0\tThe trophy did not fit in the case because it was too big.\tThe trophy was too big.\t1\n"
                + "1\tThe trophy did not fit in the case because it was too big.\tThe case was too big.\t0\n");
        return root;
    }

    @Test
    void everyGlueTaskReadsItsOfficialLayoutWithLmEvalPrompts(@TempDir Path tmp) throws Exception {
        List<Task> tasks = Glue.all(miniGlue(tmp));
        assertThat(tasks).extracting(Task::name).containsExactlyElementsOf(Glue.TASKS);
        MultipleChoiceTask cola = (MultipleChoiceTask) tasks.get(0);
        assertThat(cola.prompt(0)).isEqualTo("The sailors rode the breeze clear of the rocks.\n"
                + "Question: Does this sentence make sense?\nAnswer:");
        assertThat(cola.examples()).extracting(Example::gold).containsExactly(1, 0, 1);
        MultipleChoiceTask sst2 = (MultipleChoiceTask) tasks.get(1);
        assertThat(sst2.prompt(0)).isEqualTo("it's a charming journey.\nQuestion: Is this sentence positive or negative?"
                + "\nAnswer:");
        assertThat(sst2.examples().get(0).choices()).containsExactly("negative", "positive");
        ScaleTask stsb = (ScaleTask) tasks.get(3);
        assertThat(stsb.prompt(2)).isEqualTo("Sentence 1: A dog runs.\nSentence 2: A dog is running fast.\n"
                + "Question: On a scale from 0 to 5, how similar are the two sentences?\nAnswer:");
        assertThat(stsb.examples()).extracting(ScaleExample::gold).containsExactly(5.0, 0.2, 3.8);
        MultipleChoiceTask qqp = (MultipleChoiceTask) tasks.get(4);
        assertThat(qqp.prompt(1)).isEqualTo("Question 1: Why is the sky blue?\nQuestion 2: Who won the cup?\n"
                + "Question: Do both questions ask the same thing?\nAnswer:");
        MultipleChoiceTask mnli = (MultipleChoiceTask) tasks.get(5);
        assertThat(mnli.prompt(0)).isEqualTo("The door is open.\nQuestion: The door is not shut. True, False or Neither?"
                + "\nAnswer:");
        assertThat(mnli.examples()).extracting(Example::gold).containsExactly(0, 1, 2);
        assertThat(mnli.examples().get(0).choices()).containsExactly("True", "Neither", "False");
        assertThat(((MultipleChoiceTask) tasks.get(6)).examples()).hasSize(2);
        MultipleChoiceTask qnli = (MultipleChoiceTask) tasks.get(7);
        assertThat(qnli.prompt(0)).isEqualTo("What is the capital of France?\nParis is the capital of France.\n"
                + "Question: Does this response answer the question?\nAnswer:");
        assertThat(qnli.examples()).extracting(Example::gold).containsExactly(0, 1);
        MultipleChoiceTask wnli = (MultipleChoiceTask) tasks.get(9);
        assertThat(wnli.examples().get(0).choices()).containsExactly("False", "True");
        assertThat(wnli.examples()).extracting(Example::gold).containsExactly(1, 0);
    }

    @Test
    void glueScoreIsTheMeanOfTaskScoresWithTwoMetricTasksAveragedFirst(@TempDir Path tmp) throws Exception {
        EvalReport report = Evaluator.of(model).tasks(Glue.all(miniGlue(tmp))).run();
        Map<String, Double> glue = report.results().get("glue");
        double cola = report.metric("cola", "mcc");
        double mrpc = (report.metric("mrpc", "acc") + report.metric("mrpc", "f1")) / 2;
        double stsb = (report.metric("stsb", "pearson") + report.metric("stsb", "spearman")) / 2;
        double qqp = (report.metric("qqp", "acc") + report.metric("qqp", "f1")) / 2;
        double mnli = (report.metric("mnli_matched", "acc") + report.metric("mnli_mismatched", "acc")) / 2;
        double expected = 100 * (cola + report.metric("sst2", "acc") + mrpc + stsb + qqp + mnli
                + report.metric("qnli", "acc") + report.metric("rte", "acc") + report.metric("wnli", "acc")) / 9;
        assertThat(glue.get("score")).isCloseTo(expected, within(1e-12));
        assertThat(Glue.score(report)).isEqualTo(glue.get("score"));
        assertThat(glue.get("mnli")).isEqualTo(mnli);
        assertThat(report.metric("stsb", "examples")).isEqualTo(3.0);

        EvalReport partial = Evaluator.of(model).task(Glue.rte(tmp.resolve("RTE"))).run();
        assertThat(partial.results()).doesNotContainKey("glue");
        assertThatThrownBy(() -> Glue.score(partial)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing [cola, sst2, mrpc, stsb, qqp, mnli_matched, mnli_mismatched, qnli, wnli]");
    }

    @Test
    void stsbPredictionIsTheExpectedScoreUnderTheModelsChoiceDistribution(@TempDir Path tmp) throws Exception {
        ScaleTask stsb = Glue.stsb(miniGlue(tmp).resolve("STS-B"));
        ChoiceScorer scorer = new ChoiceScorer(model);
        List<ExampleScore> scores = stsb.batchSize(4).evaluate(model).examples();
        double[] predicted = stsb.predictions(scores);
        for (int i = 0; i < 3; i++) {
            double z = 0;
            double weighted = 0;
            for (int v = 0; v <= 5; v++) {
                double p = Math.exp(scorer.logLikelihood(stsb.prompt(i), " " + v));
                z += p;
                weighted += p * v;
            }
            assertThat(predicted[i]).isCloseTo(weighted / z, within(1e-4));
        }
        assertThat(scores.get(1).gold()).isZero();      // 0.2 shows as the nearest label, "0", in few-shot prompts
    }

    @Test
    void glueInputErrorsNameFileAndLine(@TempDir Path tmp) throws Exception {
        Path root = miniGlue(tmp);
        write(root.resolve("CoLA/dev.tsv"), "gj04\t1\t\tFine.\ngj04\t2\t\tBad label.\n");
        assertThatThrownBy(() -> Glue.cola(root.resolve("CoLA"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("CoLA/dev.tsv:2").hasMessageContaining("label '2' in column 'label'");
        write(root.resolve("CoLA/dev.tsv"), "gj04\t1\tFine.\n");
        assertThatThrownBy(() -> Glue.cola(root.resolve("CoLA"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("CoLA/dev.tsv:1").hasMessageContaining("3 tab-separated field(s), expected 4");
        write(root.resolve("CoLA/dev.tsv"), "");
        assertThatThrownBy(() -> Glue.cola(root.resolve("CoLA"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("has no data rows");
        write(root.resolve("STS-B/dev.tsv"), "sentence1\tsentence2\tscore\na\tb\t5.5\n");
        assertThatThrownBy(() -> Glue.stsb(root.resolve("STS-B"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("dev.tsv:2").hasMessageContaining("outside STS-B's range [0, 5]");
        write(root.resolve("STS-B/dev.tsv"), "sentence1\tsentence2\tscore\na\tb\thigh\n");
        assertThatThrownBy(() -> Glue.stsb(root.resolve("STS-B"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("dev.tsv:2").hasMessageContaining("'high', not a number");
        write(root.resolve("MNLI/dev_matched.tsv"), "sentence1\tsentence2\tgold_label\na\tb\tmaybe\n");
        assertThatThrownBy(() -> Glue.mnliMatched(root.resolve("MNLI"))).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("dev_matched.tsv:2")
                .hasMessageContaining("'maybe' in column 'gold_label' is not one of [entailment, neutral, contradiction]");
    }
}
