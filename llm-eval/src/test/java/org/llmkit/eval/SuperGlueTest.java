package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.DataFormatException;

/** SuperGLUE tasks from HuggingFace JSONL exports the test writes. */
class SuperGlueTest {
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static Path split(Path dir, String name, String... lines) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
        return dir;
    }

    @Test
    void everyTaskBuildsLmEvalPromptsFromTheHubsFields(@TempDir Path tmp) throws Exception {
        MultipleChoiceTask boolq = SuperGlue.boolq(split(tmp.resolve("boolq"), "validation.jsonl",
                "{\"question\": \"is the sky blue\", \"passage\": \"The sky is blue.\", \"idx\": 0, \"label\": 1}"));
        assertThat(boolq.prompt(0)).isEqualTo("The sky is blue.\nQuestion: is the sky blue?\nAnswer:");
        assertThat(boolq.examples().get(0).choices()).containsExactly("no", "yes");

        MultipleChoiceTask copa = SuperGlue.copa(split(tmp.resolve("copa"), "validation.jsonl",
                "{\"premise\": \"My body cast a shadow over the grass.\", \"choice1\": \"The sun was rising.\","
                        + " \"choice2\": \"The grass was cut.\", \"question\": \"cause\", \"idx\": 0, \"label\": 0}"));
        assertThat(copa.prompt(0)).isEqualTo("My body cast a shadow over the grass because");
        assertThat(copa.examples().get(0).choices()).containsExactly("the sun was rising.", "the grass was cut.");

        MultipleChoiceTask rte = SuperGlue.rte(split(tmp.resolve("rte"), "validation.jsonl",
                "{\"premise\": \"A man sleeps.\", \"hypothesis\": \"A man rests.\", \"idx\": 0, \"label\": 0}"));
        assertThat(rte.name()).isEqualTo("sglue_rte");
        assertThat(rte.prompt(0)).isEqualTo("A man sleeps.\nQuestion: A man rests. True or False?\nAnswer:");

        MultipleChoiceTask wic = SuperGlue.wic(split(tmp.resolve("wic"), "validation.jsonl",
                "{\"word\": \"bank\", \"sentence1\": \"I sat by the bank.\", \"sentence2\": \"The bank lent money.\","
                        + " \"start1\": 13, \"end1\": 17, \"start2\": 4, \"end2\": 8, \"idx\": 0, \"label\": 0}"));
        assertThat(wic.prompt(0)).isEqualTo("Sentence 1: I sat by the bank.\nSentence 2: The bank lent money.\n"
                + "Question: Is the word 'bank' used in the same way in the two sentences above?\nAnswer:");

        MultipleChoiceTask wsc = SuperGlue.wsc(split(tmp.resolve("wsc"), "validation.jsonl",
                "{\"text\": \"Mark told Pete many lies about himself , which Pete included in his book .\","
                        + " \"span1_index\": 0, \"span2_index\": 12, \"span1_text\": \"Mark\", \"span2_text\": \"his\","
                        + " \"idx\": 0, \"label\": 0}"));
        assertThat(wsc.prompt(0)).isEqualTo("Passage: Mark told Pete many lies about himself, which Pete included in"
                + " *his* book.\nQuestion: In the passage above, does the pronoun \"*his*\" refer to \"*Mark*\"?\nAnswer:");
    }

    @Test
    void cbReportsAccuracyAndMacroF1OverItsThreeClassesWithTrainAsFewShotPool(@TempDir Path tmp) throws Exception {
        Path dir = split(tmp.resolve("cb"), "validation.jsonl",
                "{\"premise\": \"It rained all day.\", \"hypothesis\": \"the ground is wet\", \"idx\": 0, \"label\": 0}",
                "",
                "{\"premise\": \"He never left.\", \"hypothesis\": \"he left\", \"idx\": 1, \"label\": 1}",
                "{\"premise\": \"She may come.\", \"hypothesis\": \"she comes\", \"idx\": 2, \"label\": 2}",
                "{\"premise\": \"The dog barked.\", \"hypothesis\": \"a cat meowed\", \"idx\": 3, \"label\": 2}");
        split(dir, "train.jsonl",
                "{\"premise\": \"Snow fell.\", \"hypothesis\": \"it was cold\", \"idx\": 0, \"label\": 0}");
        MultipleChoiceTask cb = SuperGlue.cb(dir).fewShot(1, 3);
        assertThat(cb.prompt(0)).isEqualTo("Snow fell.\nQuestion: it was cold. True, False, or Neither?\nAnswer: True"
                + "\n\nIt rained all day.\nQuestion: the ground is wet. True, False, or Neither?\nAnswer:");
        TaskResult r = cb.evaluate(model);
        int[] gold = {0, 1, 2, 2};
        int[] pred = r.examples().stream().mapToInt(ExampleScore::predicted).toArray();
        double f1 = 0;
        for (int c = 0; c < 3; c++) {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < 4; i++) {
                tp += gold[i] == c && pred[i] == c ? 1 : 0;
                fp += gold[i] != c && pred[i] == c ? 1 : 0;
                fn += gold[i] == c && pred[i] != c ? 1 : 0;
            }
            f1 += tp == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
        }
        assertThat(r.metrics().keySet()).containsExactly("acc", "f1", "examples");
        assertThat(r.metrics().get("f1")).isCloseTo(f1 / 3, within(1e-12));
        assertThat(r.metrics().get("acc")).isEqualTo(Metrics.accuracy(gold, pred));
    }

    @Test
    void malformedLinesBadLabelsEmptySplitsAndNonParquetFilesFailClearly(@TempDir Path tmp) throws Exception {
        Path broken = split(tmp.resolve("a"), "validation.jsonl",
                "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": 0}", "{\"premise\": \"p\", \"hyp");
        assertThatThrownBy(() -> SuperGlue.cb(broken)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation.jsonl:2").hasMessageContaining("not valid JSON");
        Path test = split(tmp.resolve("b"), "validation.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": -1}");
        assertThatThrownBy(() -> SuperGlue.cb(test)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation.jsonl:1").hasMessageContaining("label -1 in field 'label' is not one of 0..2")
                .hasMessageContaining("unlabelled test split");
        Path three = split(tmp.resolve("c"), "validation.jsonl", "{\"passage\": \"p\", \"question\": \"q\", \"label\": 2}");
        assertThatThrownBy(() -> SuperGlue.boolq(three)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("label 2 in field 'label' is not one of 0..1 [False, True]");
        Path missing = split(tmp.resolve("d"), "validation.jsonl", "{\"passage\": \"p\", \"label\": 1}");
        assertThatThrownBy(() -> SuperGlue.boolq(missing)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation.jsonl:1: field 'question' is missing");
        Path array = split(tmp.resolve("e"), "validation.jsonl", "[1, 2]");
        assertThatThrownBy(() -> SuperGlue.boolq(array)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("expected a JSON object per line, found ARRAY");
        Path empty = split(tmp.resolve("f"), "validation.jsonl", "");
        assertThatThrownBy(() -> SuperGlue.boolq(empty)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("holds no records; the split is empty");
        Path parquet = split(tmp.resolve("g"), "validation-00000-of-00001.parquet", "PAR1");
        assertThatThrownBy(() -> SuperGlue.boolq(parquet)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation-00000-of-00001.parquet: not a readable Parquet file");
        assertThatThrownBy(() -> SuperGlue.boolq(tmp.resolve("none"))).isInstanceOf(java.nio.file.NoSuchFileException.class)
                .hasMessageContaining("validation.jsonl");
    }
}
