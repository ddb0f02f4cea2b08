package org.llmkit.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * Latency and cost of serving a prompt set one request at a time: each prompt is generated greedily
 * through the streaming API; the time to the first streamed piece is the time to first token
 * (TTFT), the time to the last is the end-to-end latency.
 *
 * <pre>{@code
 * Evaluator.of(model).latency(LatencyProbe.of(prompts).maxNewTokens(64).pricePerGpuHour(2.5)).run()
 *         .metric("latency", "e2e_p95_ms");
 * }</pre>
 *
 * <p>Report keys: {@code prompts}, {@code new_tokens} (sum), {@code total_seconds} (sum of
 * end-to-end times), {@code ttft_mean_ms}, {@code ttft_p50_ms}/{@code p95}/{@code p99},
 * {@code e2e_p50_ms}/{@code p95}/{@code p99}, {@code tokens_per_second} (new tokens over end-to-end
 * time), {@code decode_tokens_per_second} (tokens after the first over the time after the first),
 * {@code slo_seconds} and {@code share_within_slo} (requests finished within it), and, when a price
 * is set, {@code price_per_gpu_hour} and {@code cost_per_1k_tokens}: the GPU time the requests held
 * the device, priced per hour, per thousand generated tokens. Warm-up runs are not counted.
 */
public final class LatencyProbe {
    private final List<String> prompts;
    private final int maxNewTokens;
    private final double pricePerGpuHour;
    private final double sloSeconds;
    private final int warmup;

    private LatencyProbe(List<String> prompts, int maxNewTokens, double pricePerGpuHour, double sloSeconds,
            int warmup) {
        this.prompts = prompts;
        this.maxNewTokens = maxNewTokens;
        this.pricePerGpuHour = pricePerGpuHour;
        this.sloSeconds = sloSeconds;
        this.warmup = warmup;
    }

    /**
     * A probe of 64 new tokens per prompt, a 2-second latency objective, one warm-up run and no price.
     *
     * @param prompts at least one non-empty prompt
     * @return the probe
     */
    public static LatencyProbe of(List<String> prompts) {
        return new LatencyProbe(ToxicityProbe.checkPrompts(prompts, "latency"), 64, Double.NaN, 2.0, 1);
    }

    /**
     * Sets the tokens generated per prompt (EOS is ignored so that every request does the same work).
     *
     * @param tokens at least 1
     * @return a copy with the setting
     */
    public LatencyProbe maxNewTokens(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, was " + tokens);
        }
        return new LatencyProbe(prompts, tokens, pricePerGpuHour, sloSeconds, warmup);
    }

    /**
     * Sets the price of one GPU-hour, which turns timings into a cost per 1K tokens.
     *
     * @param price in any currency, positive and finite
     * @return a copy with the price
     */
    public LatencyProbe pricePerGpuHour(double price) {
        if (!(price > 0) || Double.isInfinite(price)) {
            throw new IllegalArgumentException("pricePerGpuHour must be positive and finite, was " + price);
        }
        return new LatencyProbe(prompts, maxNewTokens, price, sloSeconds, warmup);
    }

    /**
     * Sets the end-to-end latency objective reported as {@code share_within_slo}.
     *
     * @param seconds positive
     * @return a copy with the objective
     */
    public LatencyProbe slo(double seconds) {
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException("slo must be a positive number of seconds, was " + seconds);
        }
        return new LatencyProbe(prompts, maxNewTokens, pricePerGpuHour, seconds, warmup);
    }

    /**
     * Sets how many uncounted runs (of the first prompt) come first, to warm up the JIT and kernels.
     *
     * @param runs at least 0
     * @return a copy with the setting
     */
    public LatencyProbe warmup(int runs) {
        if (runs < 0) {
            throw new IllegalArgumentException("warmup must be at least 0, was " + runs);
        }
        return new LatencyProbe(prompts, maxNewTokens, pricePerGpuHour, sloSeconds, runs);
    }

    /**
     * Runs every prompt in turn and summarises the timings.
     *
     * @param model a model with a tokenizer
     * @return the report section (see the class comment for its keys)
     */
    public Map<String, Double> run(LanguageModel model) {
        for (int i = 0; i < warmup; i++) {
            time(model, prompts.get(0));
        }
        double[] ttft = new double[prompts.size()];
        double[] e2e = new double[prompts.size()];
        long tokens = 0;
        double afterFirst = 0;
        long tokensAfterFirst = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Timing t = time(model, prompts.get(i));
            ttft[i] = t.firstNanos() / 1e6;
            e2e[i] = t.totalNanos() / 1e6;
            tokens += t.tokens();
            afterFirst += (t.totalNanos() - t.firstNanos()) / 1e9;
            tokensAfterFirst += Math.max(0, t.tokens() - 1);
        }
        double totalSeconds = java.util.Arrays.stream(e2e).sum() / 1e3;
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("prompts", (double) prompts.size());
        out.put("new_tokens", (double) tokens);
        out.put("total_seconds", totalSeconds);
        out.put("ttft_mean_ms", Percentiles.mean(ttft));
        out.put("ttft_p50_ms", Percentiles.of(ttft, 50));
        out.put("ttft_p95_ms", Percentiles.of(ttft, 95));
        out.put("ttft_p99_ms", Percentiles.of(ttft, 99));
        out.put("e2e_p50_ms", Percentiles.of(e2e, 50));
        out.put("e2e_p95_ms", Percentiles.of(e2e, 95));
        out.put("e2e_p99_ms", Percentiles.of(e2e, 99));
        out.put("tokens_per_second", tokens / totalSeconds);
        out.put("decode_tokens_per_second", afterFirst > 0 ? tokensAfterFirst / afterFirst : 0.0);
        out.put("slo_seconds", sloSeconds);
        out.put("share_within_slo", java.util.Arrays.stream(e2e).filter(ms -> ms <= sloSeconds * 1e3).count()
                / (double) e2e.length);
        if (!Double.isNaN(pricePerGpuHour)) {
            out.put("price_per_gpu_hour", pricePerGpuHour);
            out.put("cost_per_1k_tokens", pricePerGpuHour * totalSeconds / 3600 / (tokens / 1000.0));
        }
        return out;
    }

    private record Timing(long firstNanos, long totalNanos, int tokens) { }

    private Timing time(LanguageModel model, String prompt) {
        long[] first = {-1};
        long start = System.nanoTime();
        GenerationResult r = model.generate(prompt).greedy().ignoreEos().maxNewTokens(maxNewTokens)
                .stream(piece -> {
                    if (first[0] < 0 && !piece.isEmpty()) {
                        first[0] = System.nanoTime();
                    }
                });
        long end = System.nanoTime();
        // a first token that decodes to no text (a special token) streams nothing: fall back to the prefill time
        long firstNanos = first[0] >= 0 ? first[0] - start : Math.min(r.prefillNanos(), end - start);
        return new Timing(firstNanos, end - start, r.newTokens().length);
    }

    /**
     * Returns the prompts.
     *
     * @return an unmodifiable list
     */
    public List<String> prompts() {
        return Objects.requireNonNull(prompts);
    }
}
