package org.llmkit.train;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.tensor.LogSoftmax;

/**
 * Scores a generated sample for {@link SelfImprovement}: higher is better; samples below the threshold given to
 * {@link SelfImprovement#scorer(SampleScorer, double)} are dropped (reason {@code score}). Use a reward function
 * (a checker that knows the right answer, a format validator), the model's own log-likelihood, or a judge prompt.
 *
 * <pre>{@code
 * SampleScorer exact = (prompt, response) -> response.strip().equals(answerOf(prompt)) ? 1 : 0;
 * SampleScorer fluent = SampleScorer.logLikelihood(model);
 * SampleScorer judged = SampleScorer.judge(judgeModel, "Rate 1-5 how helpful this answer is.\nQ: {prompt}\nA: {response}\nRating:");
 * }</pre>
 */
@FunctionalInterface
public interface SampleScorer {

    /**
     * @param prompt the prompt the sample answers
     * @param response the generated text
     * @return the score; higher is better
     */
    double score(String prompt, String response);

    /**
     * The mean log-probability per token the model gives the response after the prompt (a fluency/confidence
     * score; ≤ 0). Responses with no tokens score {@code -infinity}.
     *
     * @param model a model with a tokenizer (usually the one being improved)
     * @return the scorer
     */
    static SampleScorer logLikelihood(LanguageModel model) {
        Objects.requireNonNull(model, "model");
        return (prompt, response) -> {
            int[] p = model.tokenizer().encode(prompt);
            int[] r = model.tokenizer().encode(response, false);
            if (r.length == 0) {
                return Double.NEGATIVE_INFINITY;
            }
            int[] all = new int[p.length + r.length];
            System.arraycopy(p, 0, all, 0, p.length);
            System.arraycopy(r, 0, all, p.length, r.length);
            float[][] logits = model.logits(all);
            double sum = 0;
            for (int i = 0; i < r.length; i++) {
                sum += LogSoftmax.of(logits[p.length - 1 + i], r[i]);
            }
            return sum / r.length;
        };
    }

    /**
     * Asks a judge model to rate the sample: {@code template} with {@code {prompt}} and {@code {response}} filled in
     * is completed greedily (16 tokens) and the first number in the reply is the score; a reply without a number
     * scores {@code NaN}, which never passes a threshold.
     *
     * @param judge the judge model, with a tokenizer
     * @param template the judge prompt; must contain {@code {response}}
     * @return the scorer
     */
    static SampleScorer judge(LanguageModel judge, String template) {
        Objects.requireNonNull(judge, "judge");
        if (template == null || !template.contains("{response}")) {
            throw new IllegalArgumentException("the judge template must contain {response}, was: " + template);
        }
        Pattern number = Pattern.compile("-?\\d+(?:\\.\\d+)?");
        return (prompt, response) -> {
            String ask = template.replace("{prompt}", prompt).replace("{response}", response);
            String reply = judge.generate(ask).maxNewTokens(16).greedy().text();
            Matcher m = number.matcher(reply);
            return m.find() ? Double.parseDouble(m.group()) : Double.NaN;
        };
    }
}
