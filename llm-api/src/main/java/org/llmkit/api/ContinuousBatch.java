package org.llmkit.api;

import java.util.Objects;
import org.llmkit.api.generate.BatchDecoder;

/**
 * Continuous batching over one {@link LanguageModel}: requests, each a single-prompt {@link Generation} with its
 * own sampling settings, stop strings and limits, join the running batch between decode steps and leave it as
 * soon as they end; each {@link #step()} is one forward pass that advances every running sequence by one
 * token. Made by {@link LanguageModel#continuousBatch(int, long)}.
 *
 * <pre>{@code
 * try (ContinuousBatch batch = model.continuousBatch(16, 16 * 1024)) {
 *     batch.admit(model.generate(ids).maxNewTokens(64).greedy(), listener);
 *     while (batch.running() > 0) {
 *         batch.step();
 *     }
 * }
 * }</pre>
 *
 * <p>A sequence generates exactly what {@code generation.result()} would give alone (same seed, same stops;
 * only the floating-point summation order of the batched matmuls differs). Cancellation: the generation's
 * {@link Generation#cancelWhen} is polled before each step. Not thread-safe: one thread admits and steps (a
 * server's decode loop); listeners run on it.
 */
public final class ContinuousBatch implements AutoCloseable {
    private final LanguageModel model;
    private final BatchDecoder decoder;

    ContinuousBatch(LanguageModel model, BatchDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
    }

    /**
     * @param generation a single-prompt request on this batch's model
     * @return whether {@link #admit} would take it now (a free row and room under the KV-token cap)
     */
    public boolean canAdmit(Generation generation) {
        int[] prompt = single(generation);
        return decoder.canAdmit(prompt.length, generation.request().maxNewTokens());
    }

    /**
     * @param generation a single-prompt request on this batch's model
     * @return whether it could ever be admitted (prompt + maxNewTokens within the KV-token cap and the context)
     */
    public boolean fits(Generation generation) {
        int[] prompt = single(generation);
        return decoder.fits(prompt.length, generation.request().maxNewTokens());
    }

    /**
     * Admits a request: its prompt is prefilled now and its first token chosen (and streamed).
     *
     * @param generation a single-prompt request on this batch's model
     * @param listener receives text pieces and the outcome, on this thread
     * @throws IllegalStateException when there is no room now ({@link #canAdmit})
     * @throws IllegalArgumentException when the request has several prompts, belongs to another model, or can
     *     never fit
     */
    public void admit(Generation generation, BatchDecoder.Listener listener) {
        Objects.requireNonNull(listener, "listener");
        int[] prompt = single(generation);
        decoder.admit(prompt, generation.request(), listener);
    }

    /**
     * Advances every running sequence by one token (one forward pass) and retires those that ended.
     *
     * @return sequences still running
     */
    public int step() {
        return decoder.step();
    }

    /** @return sequences running now */
    public int running() {
        return decoder.running();
    }

    /** @return prompt + maxNewTokens summed over running sequences (the KV tokens they may use) */
    public long reservedTokens() {
        return decoder.reservedTokens();
    }

    /** @return the cap on {@link #reservedTokens()} */
    public long maxKvTokens() {
        return decoder.maxKvTokens();
    }

    /** @return the most sequences decoded together */
    public int maxSequences() {
        return decoder.maxSequences();
    }

    /** Cancels whatever is still running (listeners get a CancellationException) and frees the KV cache. */
    @Override
    public void close() {
        decoder.close();
    }

    private int[] single(Generation generation) {
        Objects.requireNonNull(generation, "generation");
        if (generation.model() != model) {
            throw new IllegalArgumentException("the generation belongs to another model than this batch");
        }
        if (!generation.textOnly()) {
            throw new UnsupportedOperationException("continuous batching of image prompts is not supported; run a"
                    + " VisionLanguageModel request on its own (tokens(), text(), stream(...))");
        }
        if (generation.prompts().size() != 1) {
            throw new IllegalArgumentException("a continuous batch takes one prompt per request, this one has "
                    + generation.prompts().size());
        }
        return generation.prompts().get(0);
    }
}
