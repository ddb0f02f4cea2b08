package org.llmkit.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.data.DataFormatException;

/**
 * The nine GLUE tasks read from the official GLUE TSV layout (the folders {@code CoLA}, {@code SST-2},
 * {@code MRPC}, {@code STS-B}, {@code QQP}, {@code MNLI}, {@code QNLI}, {@code RTE}, {@code WNLI} of
 * {@code download_glue_data.py}), with lm-evaluation-harness's prompts and choices. Each factory reads
 * the dev split (GLUE's test split has no labels) and, when the folder also holds {@code train.tsv},
 * uses it as the few-shot pool.
 *
 * <pre>{@code
 * EvalReport r = Evaluator.of(model).tasks(Glue.all(Path.of("glue_data"))).run();
 * r.metric("glue", "score");   // 0-100, present when every GLUE task ran
 * }</pre>
 *
 * <p>STS-B has no log-likelihood form in lm-eval; here it is a {@link ScaleTask}: the labels
 * {@code 0}..{@code 5} are the choices and the prediction is their expected value (see there).
 *
 * <p>A malformed line, a label outside the task's set or a file without data rows fails with a
 * {@link DataFormatException} naming the file and line; nothing is skipped.
 */
public final class Glue {
    /** The report names of the GLUE tasks, in the benchmark's order (MNLI as two splits). */
    public static final List<String> TASKS = List.of("cola", "sst2", "mrpc", "stsb", "qqp", "mnli_matched",
            "mnli_mismatched", "qnli", "rte", "wnli");

    private static final String ANSWER = "{context}\nAnswer:";
    private static final List<String> NO_YES = List.of("no", "yes");

    private Glue() { }

    /**
     * Every GLUE task from a folder laid out as {@code download_glue_data.py} leaves it.
     *
     * @param glueDir the folder holding {@code CoLA/}, {@code SST-2/}, ... {@code WNLI/}
     * @return the ten tasks of {@link #TASKS}, in that order
     * @throws IOException when a file is missing or malformed
     */
    public static List<Task> all(Path glueDir) throws IOException {
        return List.of(cola(glueDir.resolve("CoLA")), sst2(glueDir.resolve("SST-2")), mrpc(glueDir.resolve("MRPC")),
                stsb(glueDir.resolve("STS-B")), qqp(glueDir.resolve("QQP")), mnliMatched(glueDir.resolve("MNLI")),
                mnliMismatched(glueDir.resolve("MNLI")), qnli(glueDir.resolve("QNLI")), rte(glueDir.resolve("RTE")),
                wnli(glueDir.resolve("WNLI")));
    }

    /**
     * CoLA (acceptability): headerless {@code dev.tsv} with columns source, label (0/1), original
     * mark, sentence. Prompt {@code "…\nQuestion: Does this sentence make sense?\nAnswer:"}, choices
     * {@code no}/{@code yes}; metric {@code mcc} (Matthews correlation), as GLUE reports it.
     *
     * @param dataDir the CoLA folder
     * @return the task, named {@code cola}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask cola(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.readHeaderless(file, "source", "label", "mark", "sentence"),
                row -> new Example(row.get("sentence") + "\nQuestion: Does this sentence make sense?", NO_YES,
                        GlueTsv.label(file, row, "label", List.of("0", "1"))));
        return task("cola", dataDir, "dev.tsv", reader).metrics(TaskMetric.MCC);
    }

    /**
     * SST-2 (sentiment): columns {@code sentence}, {@code label} (0 negative, 1 positive). Prompt
     * {@code "…\nQuestion: Is this sentence positive or negative?\nAnswer:"}; metric {@code acc}.
     *
     * @param dataDir the SST-2 folder
     * @return the task, named {@code sst2}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask sst2(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "sentence", "label"),
                row -> new Example(Detokenizer.general(row.get("sentence"))
                        + "\nQuestion: Is this sentence positive or negative?", List.of("negative", "positive"),
                        GlueTsv.label(file, row, "label", List.of("0", "1"))));
        return task("sst2", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC);
    }

    /**
     * MRPC (paraphrase): columns {@code Quality}, {@code #1 String}, {@code #2 String}; Quality 1
     * means equivalent. Prompt {@code "Sentence 1: …\nSentence 2: …\nQuestion: Do both sentences mean
     * the same thing?\nAnswer:"}, choices {@code no}/{@code yes}; metrics {@code acc} and {@code f1}
     * (positive class "yes"), as GLUE reports them.
     *
     * @param dataDir the MRPC folder holding {@code dev.tsv}
     * @return the task, named {@code mrpc}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask mrpc(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "Quality", "#1 String", "#2 String"),
                row -> new Example("Sentence 1: " + Detokenizer.general(row.get("#1 String"))
                        + "\nSentence 2: " + Detokenizer.general(row.get("#2 String"))
                        + "\nQuestion: Do both sentences mean the same thing?", NO_YES,
                        GlueTsv.label(file, row, "Quality", List.of("0", "1"))));
        return task("mrpc", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC, TaskMetric.F1);
    }

    /**
     * STS-B (similarity): columns {@code sentence1}, {@code sentence2}, {@code score} (0-5). Prompt
     * {@code "Sentence 1: …\nSentence 2: …\nQuestion: On a scale from 0 to 5, how similar are the two
     * sentences?\nAnswer:"}, scale labels {@code 0}..{@code 5}; metrics {@code pearson} and
     * {@code spearman} of the expected value (see {@link ScaleTask}).
     *
     * @param dataDir the STS-B folder
     * @return the task, named {@code stsb}
     * @throws IOException when the file is missing or malformed, or a score is outside [0, 5]
     */
    public static ScaleTask stsb(Path dataDir) throws IOException {
        ScaleReader reader = file -> {
            List<ScaleExample> examples = new ArrayList<>();
            for (GlueTsv.Row row : GlueTsv.read(file, "sentence1", "sentence2", "score")) {
                double score = GlueTsv.number(file, row, "score");
                if (score < 0 || score > 5) {
                    throw new DataFormatException(file, row.line(), DataFormatException.MALFORMED,
                            "score " + score + " is outside STS-B's range [0, 5]");
                }
                examples.add(new ScaleExample("Sentence 1: " + row.get("sentence1") + "\nSentence 2: "
                        + row.get("sentence2") + "\nQuestion: On a scale from 0 to 5, how similar are the two"
                        + " sentences?", score));
            }
            return examples;
        };
        ScaleTask task = ScaleTask.of("stsb", reader.read(dataDir.resolve("dev.tsv")),
                List.of("0", "1", "2", "3", "4", "5"), new double[] {0, 1, 2, 3, 4, 5}).template(ANSWER);
        Path train = dataDir.resolve("train.tsv");
        return Files.isRegularFile(train) ? task.fewShotPool(reader.read(train)) : task;
    }

    /**
     * QQP (duplicate questions): columns {@code question1}, {@code question2}, {@code is_duplicate}.
     * Prompt {@code "Question 1: …\nQuestion 2: …\nQuestion: Do both questions ask the same
     * thing?\nAnswer:"}, choices {@code no}/{@code yes}; metrics {@code acc} and {@code f1}.
     *
     * @param dataDir the QQP folder
     * @return the task, named {@code qqp}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask qqp(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "question1", "question2", "is_duplicate"),
                row -> new Example("Question 1: " + row.get("question1") + "\nQuestion 2: "
                        + row.get("question2") + "\nQuestion: Do both questions ask the same thing?", NO_YES,
                        GlueTsv.label(file, row, "is_duplicate", List.of("0", "1"))));
        return task("qqp", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC, TaskMetric.F1);
    }

    /**
     * MNLI, matched dev split ({@code dev_matched.tsv}): columns {@code sentence1} (premise),
     * {@code sentence2} (hypothesis), {@code gold_label} (entailment, neutral, contradiction). Prompt
     * {@code "…\nQuestion: <hypothesis, ending in a period> True, False or Neither?\nAnswer:"},
     * choices {@code True}/{@code Neither}/{@code False}; metric {@code acc}.
     *
     * @param dataDir the MNLI folder
     * @return the task, named {@code mnli_matched}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask mnliMatched(Path dataDir) throws IOException {
        return task("mnli_matched", dataDir, "dev_matched.tsv", Glue::mnliExamples).metrics(TaskMetric.ACC);
    }

    /**
     * MNLI, mismatched dev split ({@code dev_mismatched.tsv}); as {@link #mnliMatched}.
     *
     * @param dataDir the MNLI folder
     * @return the task, named {@code mnli_mismatched}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask mnliMismatched(Path dataDir) throws IOException {
        return task("mnli_mismatched", dataDir, "dev_mismatched.tsv", Glue::mnliExamples).metrics(TaskMetric.ACC);
    }

    /**
     * QNLI (question answering as entailment): columns {@code question}, {@code sentence},
     * {@code label} (entailment, not_entailment). Prompt {@code "<question>\n<sentence>\nQuestion:
     * Does this response answer the question?\nAnswer:"}, choices {@code yes}/{@code no}; metric
     * {@code acc}.
     *
     * @param dataDir the QNLI folder
     * @return the task, named {@code qnli}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask qnli(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "question", "sentence", "label"),
                row -> new Example(row.get("question") + "\n" + row.get("sentence")
                        + "\nQuestion: Does this response answer the question?", List.of("yes", "no"),
                        GlueTsv.label(file, row, "label", List.of("entailment", "not_entailment"))));
        return task("qnli", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC);
    }

    /**
     * RTE (entailment): columns {@code sentence1}, {@code sentence2}, {@code label} with values
     * {@code entailment}/{@code not_entailment}. Prompt {@code "…\nQuestion: … True or False?\nAnswer:"},
     * choices {@code True}/{@code False}; metric {@code acc}.
     *
     * @param dataDir the RTE folder holding {@code dev.tsv}
     * @return the task, named {@code rte}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask rte(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "sentence1", "sentence2", "label"),
                row -> new Example(row.get("sentence1") + "\nQuestion: " + row.get("sentence2")
                        + " True or False?", List.of("True", "False"),
                        GlueTsv.label(file, row, "label", List.of("entailment", "not_entailment"))));
        return task("rte", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC);
    }

    /**
     * WNLI (pronoun resolution as entailment): columns {@code sentence1}, {@code sentence2},
     * {@code label} (1 entailment, 0 not). Prompt {@code "…\nQuestion: … True or False?\nAnswer:"},
     * choices {@code False}/{@code True} (current lm-eval; its first version used three choices,
     * which do not fit WNLI's two labels); metric {@code acc}.
     *
     * @param dataDir the WNLI folder
     * @return the task, named {@code wnli}
     * @throws IOException when the file is missing or malformed
     */
    public static MultipleChoiceTask wnli(Path dataDir) throws IOException {
        Reader reader = file -> eachRow(GlueTsv.read(file, "sentence1", "sentence2", "label"),
                row -> new Example(row.get("sentence1") + "\nQuestion: " + row.get("sentence2")
                        + " True or False?", List.of("False", "True"),
                        GlueTsv.label(file, row, "label", List.of("0", "1"))));
        return task("wnli", dataDir, "dev.tsv", reader).metrics(TaskMetric.ACC);
    }

    /**
     * The GLUE score from the metrics of every GLUE task, as the benchmark defines it: each task's
     * score is its metric, or the unweighted mean of its two metrics (MRPC and QQP: F1 and accuracy;
     * STS-B: Pearson and Spearman; MNLI: matched and mismatched accuracy, MNLI counting as one task);
     * the GLUE score is the mean of the nine task scores, times 100.
     *
     * @param report a report holding every task of {@link #TASKS}
     * @return the score in [-100, 100] (CoLA's MCC and the correlations can be negative)
     * @throws IllegalArgumentException naming the GLUE tasks the report lacks
     */
    public static double score(EvalReport report) {
        return scores(report.results()).get("score");
    }

    /** The per-task scores and the overall score, for the report's {@code glue} section. */
    static Map<String, Double> scores(Map<String, Map<String, Double>> results) {
        List<String> missing = TASKS.stream().filter(t -> !results.containsKey(t)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the GLUE score needs every GLUE task; missing " + missing);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("cola", metric(results, "cola", "mcc"));
        out.put("sst2", metric(results, "sst2", "acc"));
        out.put("mrpc", (metric(results, "mrpc", "f1") + metric(results, "mrpc", "acc")) / 2);
        out.put("stsb", (metric(results, "stsb", "pearson") + metric(results, "stsb", "spearman")) / 2);
        out.put("qqp", (metric(results, "qqp", "f1") + metric(results, "qqp", "acc")) / 2);
        out.put("mnli", (metric(results, "mnli_matched", "acc") + metric(results, "mnli_mismatched", "acc")) / 2);
        out.put("qnli", metric(results, "qnli", "acc"));
        out.put("rte", metric(results, "rte", "acc"));
        out.put("wnli", metric(results, "wnli", "acc"));
        double sum = out.values().stream().mapToDouble(Double::doubleValue).sum();
        out.put("score", 100 * sum / out.size());
        return out;
    }

    private static double metric(Map<String, Map<String, Double>> results, String task, String name) {
        Double value = results.get(task).get(name);
        if (value == null) {
            throw new IllegalArgumentException("the GLUE score needs metric '" + name + "' of task '" + task
                    + "'; it has " + results.get(task).keySet());
        }
        return value;
    }

    private interface Reader {
        List<Example> read(Path file) throws IOException;
    }

    /** One example made from one row of a task's file. */
    private interface RowExample<T> {
        T of(GlueTsv.Row row) throws IOException;
    }

    private static <T> List<T> eachRow(List<GlueTsv.Row> rows, RowExample<T> example) throws IOException {
        List<T> examples = new ArrayList<>(rows.size());
        for (GlueTsv.Row row : rows) {
            examples.add(example.of(row));
        }
        return examples;
    }

    private interface ScaleReader {
        List<ScaleExample> read(Path file) throws IOException;
    }

    private static MultipleChoiceTask task(String name, Path dataDir, String split, Reader reader)
            throws IOException {
        MultipleChoiceTask task = MultipleChoiceTask.of(name, reader.read(dataDir.resolve(split))).template(ANSWER);
        Path train = dataDir.resolve("train.tsv");
        return Files.isRegularFile(train) ? task.fewShotPool(reader.read(train)) : task;
    }

    private static List<Example> mnliExamples(Path file) throws IOException {
        List<Example> examples = new ArrayList<>();
        for (GlueTsv.Row row : GlueTsv.read(file, "sentence1", "sentence2", "gold_label")) {
            String hypothesis = row.get("sentence2").strip();
            examples.add(new Example(row.get("sentence1") + "\nQuestion: " + hypothesis
                    + (hypothesis.endsWith(".") ? "" : ".") + " True, False or Neither?",
                    List.of("True", "Neither", "False"),
                    GlueTsv.label(file, row, "gold_label", List.of("entailment", "neutral", "contradiction"))));
        }
        return examples;
    }
}
