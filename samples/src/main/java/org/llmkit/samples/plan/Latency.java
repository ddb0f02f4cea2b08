package org.llmkit.samples.plan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * Times greedy generation the way a user feels it: time to the first new token (the prompt's forward pass) and
 * decode speed after it, one prompt at a time after one untimed warm-up run.
 *
 * <pre>{@code
 * Map<String, Double> m = Latency.measure(model, List.of("Once upon a time"), 32);
 * m.get("time_to_first_token_ms");
 * }</pre>
 */
public final class Latency {
    private Latency() { }

    /**
     * Measures.
     *
     * @param model the model, with a tokenizer
     * @param prompts the prompts, at least one
     * @param newTokens tokens to generate per prompt (end-of-sequence is ignored so each makes this many), &gt;= 2
     * @return {@code prompts}, {@code new_tokens}, {@code time_to_first_token_ms} (mean),
     *     {@code decode_tokens_per_second} (mean over prompts), {@code total_ms} (mean),
     *     {@code total_ms_max}
     */
    public static Map<String, Double> measure(LanguageModel model, List<String> prompts, int newTokens) {
        if (prompts.isEmpty() || newTokens < 2) {
            throw new IllegalArgumentException("latency needs at least one prompt and newTokens >= 2, got "
                    + prompts.size() + " prompts and " + newTokens);
        }
        model.generate(prompts.get(0)).maxNewTokens(newTokens).greedy().ignoreEos().result();   // warm-up
        double firstMs = 0;
        double decodeRate = 0;
        double totalMs = 0;
        double maxMs = 0;
        for (String prompt : prompts) {
            GenerationResult r = model.generate(prompt).maxNewTokens(newTokens).greedy().ignoreEos().result();
            double total = r.totalNanos() / 1e6;
            double decodeSeconds = (r.totalNanos() - r.prefillNanos()) / 1e9;
            firstMs += r.prefillNanos() / 1e6;
            decodeRate += (r.newTokens().length - 1) / decodeSeconds;
            totalMs += total;
            maxMs = Math.max(maxMs, total);
        }
        int n = prompts.size();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("prompts", (double) n);
        m.put("new_tokens", (double) newTokens);
        m.put("time_to_first_token_ms", firstMs / n);
        m.put("decode_tokens_per_second", decodeRate / n);
        m.put("total_ms", totalMs / n);
        m.put("total_ms_max", maxMs);
        return m;
    }
}
