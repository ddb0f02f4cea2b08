package org.llmkit.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.data.DataFormatException;

/**
 * GLUE tasks read from the official GLUE TSV layout, with lm-evaluation-harness's prompts and
 * choices. Each factory reads {@code dev.tsv} (GLUE's test split has no labels) from the task's
 * folder and, when the folder also holds {@code train.tsv}, uses it as the few-shot pool.
 *
 * <pre>{@code
 * Evaluator.of(model).task(Glue.mrpc(Path.of("glue_data/MRPC"))).run().metric("mrpc", "f1");
 * }</pre>
 *
 * <p>Implemented: MRPC and RTE. A malformed line, a label outside the task's set or a file without
 * data rows fails with a {@link DataFormatException} naming the file and line; nothing is skipped.
 */
public final class Glue {
    private static final String MRPC_QUESTION = "\nQuestion: Do both sentences mean the same thing?";

    private Glue() { }

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
        return task("mrpc", dataDir, Glue::mrpcExamples).metrics(TaskMetric.ACC, TaskMetric.F1);
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
        return task("rte", dataDir, Glue::rteExamples).metrics(TaskMetric.ACC);
    }

    private interface Reader {
        List<Example> read(Path file) throws IOException;
    }

    private static MultipleChoiceTask task(String name, Path dataDir, Reader reader) throws IOException {
        MultipleChoiceTask task = MultipleChoiceTask.of(name, reader.read(dataDir.resolve("dev.tsv")))
                .template("{context}\nAnswer:");
        Path train = dataDir.resolve("train.tsv");
        return Files.isRegularFile(train) ? task.fewShotPool(reader.read(train)) : task;
    }

    private static List<Example> mrpcExamples(Path file) throws IOException {
        List<Example> examples = new ArrayList<>();
        for (GlueTsv.Row row : GlueTsv.read(file, "Quality", "#1 String", "#2 String")) {
            int gold = GlueTsv.label(file, row, "Quality", List.of("0", "1"));
            String context = "Sentence 1: " + row.get("#1 String") + "\nSentence 2: " + row.get("#2 String")
                    + MRPC_QUESTION;
            examples.add(new Example(context, List.of("no", "yes"), gold));
        }
        return examples;
    }

    private static List<Example> rteExamples(Path file) throws IOException {
        List<Example> examples = new ArrayList<>();
        for (GlueTsv.Row row : GlueTsv.read(file, "sentence1", "sentence2", "label")) {
            int gold = GlueTsv.label(file, row, "label", List.of("entailment", "not_entailment"));
            String context = row.get("sentence1") + "\nQuestion: " + row.get("sentence2") + " True or False?";
            examples.add(new Example(context, List.of("True", "False"), gold));
        }
        return examples;
    }
}
