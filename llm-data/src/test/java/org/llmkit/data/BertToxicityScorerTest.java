package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.Tokenizer;

/** The DJL BERT classifier against transformers' logits for the hf-tiny bert_classifier fixture. */
class BertToxicityScorerTest {

    private static Tokenizer tokenizer;
    private static BertToxicityScorer scorer;
    private static final Path MODEL = Fixtures.hfTiny().resolve("bert_classifier");

    @BeforeAll
    static void load() throws Exception {
        tokenizer = Tokenizer.load(Fixtures.tokenizer());
        scorer = BertToxicityScorer.load(MODEL, tokenizer);
    }

    @AfterAll
    static void close() {
        scorer.close();
        tokenizer.close();
    }

    @Test
    void logitsMatchTransformersWithinOneTenThousandthIncludingAMaskedSequence() throws Exception {
        JsonNode reference = new ObjectMapper().readTree(MODEL.resolve("reference.json").toFile());
        int[][] ids = toInts(reference.get("input_ids"));
        int[][] mask = toInts(reference.get("attention_mask"));
        float[][] logits = scorer.logits(ids, mask);
        for (int b = 0; b < ids.length; b++) {
            for (int l = 0; l < 2; l++) {
                assertThat((double) logits[b][l]).as("logit [%d][%d]", b, l)
                        .isCloseTo(reference.get("logits").get(b).get(l).asDouble(), org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    @Test
    void maskedPositionsDoNotChangeTheLogits() {
        int[][] ids = {{5, 6, 7, 8, 9}};
        float[][] alone = scorer.logits(new int[][] {{5, 6, 7}}, new int[][] {{1, 1, 1}});
        float[][] padded = scorer.logits(ids, new int[][] {{1, 1, 1, 0, 0}});
        assertThat(padded[0][0]).isCloseTo(alone[0][0], org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(padded[0][1]).isCloseTo(alone[0][1], org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void scoresAreTheToxicLabelsProbabilityAndBatchingDoesNotChangeThem() {
        assertThat(scorer.labels()).containsExactly("non-toxic", "toxic");
        List<String> texts = List.of("hello there", "a much longer text with several words in it", "x");
        double[] batched = scorer.scoreAll(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(batched[i]).isBetween(0.0, 1.0).isCloseTo(scorer.score(texts.get(i)),
                    org.assertj.core.data.Offset.offset(1e-5));
        }
        String longText = "word ".repeat(1000);
        assertThat(scorer.score(longText)).as("texts longer than 128 positions are cut").isBetween(0.0, 1.0);
    }

    @Test
    void pipelineDropsDocumentsScoringAboveTheThreshold() throws Exception {
        List<String> texts = List.of("first text", "second text", "third text");
        double[] scores = scorer.scoreAll(texts);
        double threshold = (scores[0] + scores[1] + scores[2]) / 3;
        long above = java.util.Arrays.stream(scores).filter(s -> s > threshold).count();
        PipelineReport report = Pipeline.from(Dataset.of(texts)).toxicity(scorer, threshold).threads(2).run(d -> { });
        assertThat(report.count("toxicity", "toxic")).isEqualTo(above);
    }

    @Test
    void aFolderWithoutTheClassifierIsAClearError() {
        assertThatThrownBy(() -> BertToxicityScorer.load(Fixtures.hfTiny().resolve("llama3"), tokenizer))
                .hasMessageContaining("model_type is \"llama\", expected \"bert\"");
    }

    private static int[][] toInts(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            out[r] = new int[rows.get(r).size()];
            for (int c = 0; c < out[r].length; c++) {
                out[r][c] = rows.get(r).get(c).asInt();
            }
        }
        return out;
    }
}
