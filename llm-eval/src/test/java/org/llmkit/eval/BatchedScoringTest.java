package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.tensor.LogSoftmax;

class BatchedScoringTest {
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Prompts of very different lengths and continuations of one to many tokens. */
    private static List<ChoiceScorer.Request> requests() {
        List<ChoiceScorer.Request> out = new ArrayList<>();
        out.add(new ChoiceScorer.Request("Hi", " there"));
        out.add(new ChoiceScorer.Request("The quick brown fox jumps over the lazy dog and then", " sleeps all afternoon"));
        out.add(new ChoiceScorer.Request("Question: What colour is the sky?\nAnswer:", " blue"));
        out.add(new ChoiceScorer.Request("Question: What colour is the sky?\nAnswer:", " a very loud red"));
        out.add(new ChoiceScorer.Request("1 2 3 4", " 5 6 7 8 9 10 11 12"));
        out.add(new ChoiceScorer.Request("Sentence 1: It rained.\nSentence 2: It poured.\nAnswer: ", "yes"));
        out.add(new ChoiceScorer.Request("A", "b"));
        return out;
    }

    @Test
    void batchedLogLikelihoodsEqualOneAtATimeForEveryBatchSize() {
        ChoiceScorer scorer = new ChoiceScorer(model);
        List<ChoiceScorer.Request> requests = requests();
        double[] single = requests.stream().mapToDouble(r -> scorer.logLikelihood(r.context(), r.continuation()))
                .toArray();
        for (int batch : new int[] {1, 2, 3, 7, 16}) {
            double[] batched = scorer.logLikelihoods(requests, batch);
            for (int i = 0; i < single.length; i++) {
                assertThat(batched[i]).as("batch %d, request %d", batch, i).isCloseTo(single[i], within(1e-4));
            }
        }
        assertThat(single[0]).isNotEqualTo(single[1]);
    }

    @Test
    void lastTokensOfLeftPaddedBatchEqualTheModelsOwnLogits() {
        int[] shortSeq = {5, 17, 200, 3};
        int[] longSeq = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        double[][] got = BatchedLogProbs.lastTokens(model, List.of(shortSeq, longSeq), 3);
        float[][] shortLogits = model.logits(shortSeq);
        float[][] longLogits = model.logits(longSeq);
        for (int j = 0; j < 3; j++) {
            assertThat(got[0][j]).isCloseTo(LogSoftmax.of(shortLogits[j], shortSeq[j + 1]), within(1e-4));
            assertThat(got[1][j]).isCloseTo(LogSoftmax.of(longLogits[7 + j], longSeq[8 + j]), within(1e-4));
        }
        assertThatThrownBy(() -> BatchedLogProbs.lastTokens(model, List.of(shortSeq), 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot score its last 4");
    }

    @Test
    void taskScoresAndPredictionsDoNotDependOnTheBatchSize() {
        List<Example> examples = List.of(new Example("The sky is", List.of("blue", "green", "very loud and red"), 0),
                new Example("Dogs can", List.of("bark", "fly"), 0),
                new Example("Two plus two is", List.of("four", "five", "twenty-two", "a fish"), 0));
        MultipleChoiceTask task = MultipleChoiceTask.of("t", examples).template("Q: {context}\nA:");
        TaskResult one = task.batchSize(1).evaluate(model);
        TaskResult many = task.batchSize(9).evaluate(model);
        for (int i = 0; i < examples.size(); i++) {
            assertThat(many.examples().get(i).predicted()).isEqualTo(one.examples().get(i).predicted());
            for (int c = 0; c < examples.get(i).choices().size(); c++) {
                assertThat(many.examples().get(i).logLikelihoods().get(c))
                        .isCloseTo(one.examples().get(i).logLikelihoods().get(c), within(1e-4));
            }
        }
        assertThatThrownBy(() -> task.batchSize(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batchSize must be at least 1, was 0");
    }
}
