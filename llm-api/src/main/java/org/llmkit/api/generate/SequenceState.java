package org.llmkit.api.generate;

import java.util.Arrays;

/**
 * One sequence being generated: its tokens so far, its sampler, its text assembler and why it ended. Shared by
 * the batch decode loop ({@link Generator}) and continuous batching ({@link BatchDecoder}), so that both stop,
 * stream and report in exactly the same way. Not thread-safe.
 */
final class SequenceState {
    private final int[] prompt;
    private final int[] tokens;
    private final Generator.Request request;
    private final Sampler sampler;
    private final TextAssembler text;
    private final Generator.PieceListener listener;
    private final int row;
    private int length;
    private FinishReason finish;

    /**
     * @param prompt the prompt ids (not copied; the caller must not change them)
     * @param request what to generate
     * @param samplerRow mixes into the sampler's seed (a prompt's index in its batch)
     * @param listener receives text pieces, or null
     * @param row the id passed to the listener
     */
    SequenceState(int[] prompt, Generator.Request request, int samplerRow, Generator.PieceListener listener, int row) {
        this.prompt = prompt;
        this.request = request;
        this.tokens = Arrays.copyOf(prompt, prompt.length + request.maxNewTokens());
        this.length = prompt.length;
        this.sampler = new Sampler(request.sampling(), samplerRow);
        this.text = request.decoder() == null ? null : new TextAssembler(request.decoder(), request.stops());
        this.listener = listener;
        this.row = row;
    }

    /**
     * Chooses the next token.
     *
     * @param logits the last position's logits (modified in place)
     * @return the token
     */
    int sample(float[] logits) {
        return sampler.next(logits, tokens, length);
    }

    /**
     * Appends a chosen token, streams the text it completes and decides whether the sequence ended (EOS, a stop
     * string, or {@code maxNewTokens} reached).
     *
     * @param token the new token
     * @return true when the sequence has ended
     */
    boolean append(int token) {
        tokens[length++] = token;
        if (request.eosTokenIds().contains(token)) {
            finish = FinishReason.STOP;
            release(true);
            return true;
        }
        boolean stopped = text != null && text.add(token);
        if (stopped) {
            finish = FinishReason.STOP;
        } else if (generated() == request.maxNewTokens()) {
            finish = FinishReason.LENGTH;
        }
        release(finish != null);
        return finish != null;
    }

    private void release(boolean finished) {
        if (text == null) {
            return;
        }
        String piece = text.release(finished);
        if (listener != null && !piece.isEmpty()) {
            listener.onPiece(row, piece);
        }
    }

    /** @return true once the sequence has ended */
    boolean finished() {
        return finish != null;
    }

    /** @return prompt plus generated tokens so far */
    int length() {
        return length;
    }

    /** @return the newest token (the last prompt token before the first step) */
    int lastToken() {
        return tokens[length - 1];
    }

    /** @return how many tokens were generated so far */
    int generated() {
        return length - prompt.length;
    }

    /** @return the prompt */
    int[] prompt() {
        return prompt;
    }

    /** @return what was asked */
    Generator.Request request() {
        return request;
    }

    /**
     * @param prefillNanos time of the prompt's forward pass
     * @param totalNanos time from the start to the end of this sequence
     * @return the outcome so far
     */
    GenerationResult result(long prefillNanos, long totalNanos) {
        int[] generated = Arrays.copyOfRange(tokens, prompt.length, length);
        return new GenerationResult(prompt.clone(), generated, text == null ? null : text.text(),
                finish == null ? FinishReason.LENGTH : finish, prefillNanos, totalNanos);
    }
}
