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
import org.llmkit.api.Tokenizer;
import org.llmkit.api.tensor.LogSoftmax;

class MultipleChoiceTaskTest {
    private static final String TEMPLATE = "Question: {context}\nAnswer:";
    private static final List<String> CONTEXTS = List.of("What colour is the sky?", "Which animal barks?",
            "How many legs has a spider?");
    private static final List<List<String>> CHOICES = List.of(List.of("blue", "green", "a very loud red"),
            List.of("dog", "cat"), List.of("eight", "six", "two"));
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = Fixtures.llama3();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Independent reference: log p(choice tokens | prompt) straight from {@code model.logits}. */
    private static double handLogLikelihood(String prompt, String continuation) {
        Tokenizer tok = model.tokenizer();
        int[] context = tok.encode(prompt);
        int[] whole = tok.encode(prompt + continuation);
        float[][] logits = model.logits(whole);
        double sum = 0;
        for (int t = context.length; t < whole.length; t++) {
            sum += LogSoftmax.of(logits[t - 1], whole[t]);
        }
        return sum;
    }

    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[][] handScores() {
        double[][] ll = new double[CONTEXTS.size()][];
        for (int i = 0; i < ll.length; i++) {
            String prompt = TEMPLATE.replace("{context}", CONTEXTS.get(i));
            ll[i] = CHOICES.get(i).stream().mapToDouble(c -> handLogLikelihood(prompt, " " + c)).toArray();
        }
        return ll;
    }

    private static List<Example> examples(int[] gold) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < gold.length; i++) {
            out.add(new Example(CONTEXTS.get(i), CHOICES.get(i), gold[i]));
        }
        return out;
    }

    @Test
    void logLikelihoodsEqualHandComputedSumsAndTheModelsFavouriteIsAlwaysRight() {
        double[][] hand = handScores();
        int[] gold = new int[hand.length];
        for (int i = 0; i < hand.length; i++) {
            gold[i] = argmax(hand[i]);
        }
        TaskResult r = MultipleChoiceTask.of("synthetic", examples(gold)).template(TEMPLATE).evaluate(model);
        assertThat(r.metrics().get("acc")).isEqualTo(1.0);
        assertThat(r.metrics().get("examples")).isEqualTo(3.0);
        for (int i = 0; i < hand.length; i++) {
            for (int c = 0; c < hand[i].length; c++) {
                assertThat(r.examples().get(i).logLikelihoods().get(c)).isCloseTo(hand[i][c], within(1e-4));
            }
        }
    }

    @Test
    void leastLikelyGoldGivesZeroAccuracy() {
        double[][] hand = handScores();
        int[] gold = new int[hand.length];
        for (int i = 0; i < hand.length; i++) {
            double[] negated = java.util.Arrays.stream(hand[i]).map(v -> -v).toArray();
            gold[i] = argmax(negated);
        }
        TaskResult r = MultipleChoiceTask.of("synthetic", examples(gold)).template(TEMPLATE).evaluate(model);
        assertThat(r.metrics().get("acc")).isEqualTo(0.0);
    }

    @Test
    void accNormDividesByChoiceCharacters() {
        double[][] hand = handScores();
        int[] gold = new int[hand.length];
        for (int i = 0; i < hand.length; i++) {
            double[] perChar = new double[hand[i].length];
            for (int c = 0; c < perChar.length; c++) {
                perChar[c] = hand[i][c] / CHOICES.get(i).get(c).length();
            }
            gold[i] = argmax(perChar);
        }
        TaskResult r = MultipleChoiceTask.of("synthetic", examples(gold)).template(TEMPLATE).evaluate(model);
        assertThat(r.metrics().get("acc_norm")).isEqualTo(1.0);
        assertThat(r.examples().get(0).characters()).containsExactly(4, 5, 15);
    }

    @Test
    void fewShotPromptsAreSeededAndNeverShowTheExampleItself() {
        MultipleChoiceTask task = MultipleChoiceTask.of("synthetic", examples(new int[] {0, 0, 0}))
                .template(TEMPLATE).fewShot(2, 1234);
        String prompt = task.prompt(0);
        assertThat(prompt).isEqualTo(task.prompt(0));
        assertThat(prompt.split("\n\n")).hasSize(3);
        assertThat(prompt).endsWith("Question: What colour is the sky?\nAnswer:");
        assertThat(prompt).contains("Which animal barks?\nAnswer: dog").contains("spider?\nAnswer: eight");
        assertThat(prompt.indexOf("sky")).isEqualTo(prompt.lastIndexOf("sky"));
        List<Example> pool = List.of(new Example("2+2?", List.of("4", "5"), 0));
        assertThat(task.fewShot(1, 0).fewShotPool(pool).prompt(2))
                .isEqualTo("Question: 2+2?\nAnswer: 4\n\nQuestion: How many legs has a spider?\nAnswer:");
    }

    @Test
    void invalidTasksAreRejectedWithTheOptionAndRange() {
        assertThatThrownBy(() -> new Example("q", List.of("a", "b"), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gold must be in [0, 2)");
        assertThatThrownBy(() -> new Example("q", List.of("a"), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2 choices");
        assertThatThrownBy(() -> MultipleChoiceTask.of("empty", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no examples");
        MultipleChoiceTask task = MultipleChoiceTask.of("t", examples(new int[] {0, 0, 0}));
        assertThatThrownBy(() -> task.template("no placeholder"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("{context} exactly once");
        assertThatThrownBy(() -> task.fewShot(3, 0).evaluate(model))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("few-shot k must be in [0, 2]");
    }
}
