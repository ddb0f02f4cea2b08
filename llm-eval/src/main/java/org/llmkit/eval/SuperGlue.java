package org.llmkit.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.data.DataFormatException;

/**
 * The SuperGLUE tasks that are multiple choice (BoolQ, CB, COPA, RTE, WiC, WSC), read from a
 * HuggingFace {@code super_glue} export (see {@link HfExport}): each task folder holds the
 * {@code validation} split (evaluated) and optionally {@code train} (the few-shot pool) as JSON Lines
 * ({@code validation.jsonl}) or Parquet as downloaded from the Hub
 * ({@code validation-00000-of-00001.parquet}, several shards read in order), with the fields and
 * integer labels of the Hub's {@code super_glue} configs. Prompts, choices and metrics are
 * lm-evaluation-harness's.
 *
 * <pre>{@code
 * EvalReport r = Evaluator.of(model).task(SuperGlue.cb(Path.of("super_glue/cb"))).run();
 * r.metric("cb", "f1");
 * }</pre>
 *
 * <p>A malformed line, a missing field, a label outside the task's set (including the test
 * split's {@code -1}) or an empty split fails with a {@link DataFormatException} naming the file
 * and line (for Parquet, the row).
 */
public final class SuperGlue {
    private static final String ANSWER = "{context}\nAnswer:";
    private static final List<String> NO_YES = List.of("no", "yes");

    private SuperGlue() { }

    /**
     * BoolQ: fields {@code passage}, {@code question}, {@code label} (0 false, 1 true). Prompt
     * {@code "<passage>\nQuestion: <question>?\nAnswer:"}, choices {@code no}/{@code yes}; metric
     * {@code acc}.
     *
     * @param dataDir the boolq folder
     * @return the task, named {@code boolq}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask boolq(Path dataDir) throws IOException {
        return task("boolq", dataDir, row -> new Example(row.text("passage") + "\nQuestion: " + row.text("question")
                + "?", NO_YES, row.label("label", List.of("False", "True")))).metrics(TaskMetric.ACC);
    }

    /**
     * CommitmentBank: fields {@code premise}, {@code hypothesis}, {@code label} (0 entailment, 1
     * contradiction, 2 neutral). Prompt {@code "<premise>\nQuestion: <hypothesis>. True, False, or
     * Neither?\nAnswer:"}, choices {@code True}/{@code False}/{@code Neither}; metrics {@code acc} and
     * {@code f1} (macro F1 over the three classes, as lm-eval's {@code cb_multi_fi}).
     *
     * @param dataDir the cb folder
     * @return the task, named {@code cb}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask cb(Path dataDir) throws IOException {
        return task("cb", dataDir, row -> new Example(row.text("premise") + "\nQuestion: " + row.text("hypothesis")
                + ". True, False, or Neither?", List.of("True", "False", "Neither"),
                row.label("label", List.of("entailment", "contradiction", "neutral"))))
                .metrics(TaskMetric.ACC, TaskMetric.F1_MACRO);
    }

    /**
     * COPA: fields {@code premise}, {@code choice1}, {@code choice2}, {@code question} ({@code cause}
     * or {@code effect}), {@code label} (0 choice1, 1 choice2). Prompt: the premise without its final
     * period, then {@code " because"} or {@code " therefore"}; the choices follow with their first
     * letter lower-cased; no {@code "Answer:"}. Metric {@code acc}.
     *
     * @param dataDir the copa folder
     * @return the task, named {@code copa}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask copa(Path dataDir) throws IOException {
        MultipleChoiceTask task = task("copa", dataDir, row -> {
            String question = row.text("question");
            String connector = switch (question) {
                case "cause" -> "because";
                case "effect" -> "therefore";
                default -> throw row.error(DataFormatException.MALFORMED,
                        "question '" + question + "' is neither 'cause' nor 'effect'");
            };
            String premise = row.text("premise").strip();
            if (premise.isEmpty()) {
                throw row.error(DataFormatException.MALFORMED, "premise is empty");
            }
            return new Example(premise.substring(0, premise.length() - 1) + " " + connector,
                    List.of(lowerFirst(row, "choice1"), lowerFirst(row, "choice2")),
                    row.label("label", List.of("choice1", "choice2")));
        });
        return task.template(MultipleChoiceTask.CONTEXT).metrics(TaskMetric.ACC);
    }

    /**
     * RTE (SuperGLUE's copy): fields {@code premise}, {@code hypothesis}, {@code label} (0
     * entailment, 1 not). Prompt {@code "<premise>\nQuestion: <hypothesis> True or False?\nAnswer:"},
     * choices {@code True}/{@code False}; metric {@code acc}. Named {@code sglue_rte} (as in lm-eval) so
     * that it can run beside GLUE's {@code rte}.
     *
     * @param dataDir the rte folder
     * @return the task, named {@code sglue_rte}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask rte(Path dataDir) throws IOException {
        return task("sglue_rte", dataDir, row -> new Example(row.text("premise") + "\nQuestion: "
                + row.text("hypothesis") + " True or False?", List.of("True", "False"),
                row.label("label", List.of("entailment", "not_entailment")))).metrics(TaskMetric.ACC);
    }

    /**
     * Words in Context: fields {@code sentence1}, {@code sentence2}, {@code start1}, {@code end1}
     * (character span of the word in sentence 1), {@code label} (0 different sense, 1 same). Prompt
     * {@code "Sentence 1: …\nSentence 2: …\nQuestion: Is the word '<word>' used in the same way in the
     * two sentences above?\nAnswer:"}, choices {@code no}/{@code yes}; metric {@code acc}.
     *
     * @param dataDir the wic folder
     * @return the task, named {@code wic}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask wic(Path dataDir) throws IOException {
        return task("wic", dataDir, row -> {
            String s1 = row.text("sentence1");
            int start = row.integer("start1");
            int end = row.integer("end1");
            if (start < 0 || end > s1.length() || start >= end) {
                throw row.error(DataFormatException.MALFORMED, "span [" + start
                        + ", " + end + ") does not lie inside sentence1 (" + s1.length() + " characters)");
            }
            return new Example("Sentence 1: " + s1 + "\nSentence 2: " + row.text("sentence2")
                    + "\nQuestion: Is the word '" + s1.substring(start, end)
                    + "' used in the same way in the two sentences above?", NO_YES,
                    row.label("label", List.of("False", "True")));
        }).metrics(TaskMetric.ACC);
    }

    /**
     * Winograd Schema Challenge ({@code wsc.fixed}): fields {@code text}, {@code span1_text} (the
     * noun), {@code span2_text} (the pronoun), {@code span2_index} (its word index), {@code label}.
     * Prompt {@code "Passage: <text with the pronoun marked *thus*>\nQuestion: In the passage above,
     * does the pronoun \"*<pronoun>*\" refer to \"*<noun>*\"?\nAnswer:"}, choices {@code no}/{@code yes};
     * metric {@code acc}.
     *
     * @param dataDir the wsc folder
     * @return the task, named {@code wsc}
     * @throws IOException when the split is missing or malformed
     */
    public static MultipleChoiceTask wsc(Path dataDir) throws IOException {
        return task("wsc", dataDir, row -> {
            String text = row.text("text");
            String pronoun = row.text("span2_text");
            int index = row.integer("span2_index");
            String[] words = text.trim().split("\\s+");
            if (index < 0 || index >= words.length) {
                throw row.error(DataFormatException.MALFORMED, "span2_index "
                        + index + " is outside the text's " + words.length + " words");
            }
            String before = String.join(" ", java.util.Arrays.asList(words).subList(0, index));
            if (!words[index].startsWith(pronoun.split("\\s+")[0])) {
                throw row.error(DataFormatException.MALFORMED, "word "
                        + index + " of text is '" + words[index] + "', not span2_text '" + pronoun + "'");
            }
            int after = Math.min(text.length(), before.length() + pronoun.length() + 1);
            String passage = Detokenizer.general(before + " *" + pronoun + "*" + text.substring(after));
            return new Example("Passage: " + passage + "\nQuestion: In the passage above, does the pronoun \"*"
                    + pronoun + "*\" refer to \"*" + row.text("span1_text") + "*\"?", NO_YES,
                    row.label("label", List.of("False", "True")));
        }).metrics(TaskMetric.ACC);
    }

    private interface RowReader {
        Example read(HfExport.Row row) throws DataFormatException;
    }

    private static String lowerFirst(HfExport.Row row, String field) throws DataFormatException {
        String s = row.text(field);
        if (s.isEmpty()) {
            throw row.error(DataFormatException.MALFORMED, field + " is empty");
        }
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static List<Example> examples(Path dataDir, String split, RowReader reader) throws IOException {
        List<Example> out = new ArrayList<>();
        for (HfExport.Row row : HfExport.readSplit(dataDir, split)) {
            out.add(reader.read(row));
        }
        return out;
    }

    private static MultipleChoiceTask task(String name, Path dataDir, RowReader reader) throws IOException {
        MultipleChoiceTask task = MultipleChoiceTask.of(name, examples(dataDir, "validation", reader)).template(ANSWER);
        return HfExport.files(dataDir, "train").isEmpty() ? task : task.fewShotPool(examples(dataDir, "train", reader));
    }
}
