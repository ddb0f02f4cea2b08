package org.llmkit.api.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.KvCache;

/**
 * The decode loop: one prefill over the (left-padded) prompts, then one token per step for every
 * sequence still running, reusing the KV cache. Each step's arrays live in a sub-manager closed at
 * the end of the step, so memory stays flat however long the generation.
 */
public final class Generator {

    /** Receives text pieces as they become final. */
    @FunctionalInterface
    public interface PieceListener {
        /**
         * Called for each piece of text of sequence {@code row}.
         *
         * @param row the prompt's index in the batch
         * @param piece the new text (never empty)
         */
        void onPiece(int row, String piece);
    }

    /**
     * What to generate.
     *
     * @param sampling the sampling settings
     * @param maxNewTokens upper bound on new tokens per sequence
     * @param eosTokenIds ids that end a sequence
     * @param stops stop strings (need a decoder)
     * @param decoder ids to text, or null when the model has no tokenizer
     * @param cancelled polled before every decode step; when it returns true the generation stops and
     *     {@link #generate} throws {@link java.util.concurrent.CancellationException}
     */
    public record Request(SamplingSettings sampling, int maxNewTokens, Set<Integer> eosTokenIds, List<String> stops,
            Function<int[], String> decoder, BooleanSupplier cancelled) { }

    private Generator() { }

    /**
     * Generates for a batch of prompts.
     *
     * @param model the model
     * @param parent manager under which per-generation arrays are made
     * @param prompts non-empty prompts (validated by the caller)
     * @param request settings
     * @param listener receives streamed pieces, or null
     * @return one result per prompt, in order
     */
    public static List<GenerationResult> generate(DecoderModel model, NDManager parent, List<int[]> prompts,
            Request request, PieceListener listener) {
        long start = System.nanoTime();
        int batch = prompts.size();
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
        int capacity = longest + request.maxNewTokens();
        int[][] context = new int[batch][capacity];
        int[] length = new int[batch];
        int[] padding = new int[batch];
        boolean[][] keyValid = new boolean[batch][capacity];
        Sampler[] samplers = new Sampler[batch];
        TextAssembler[] texts = new TextAssembler[batch];
        FinishReason[] finish = new FinishReason[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            System.arraycopy(p, 0, context[b], 0, p.length);
            length[b] = p.length;
            padding[b] = longest - p.length;
            Arrays.fill(keyValid[b], padding[b], capacity, true);
            samplers[b] = new Sampler(request.sampling(), b);
            texts[b] = request.decoder() == null ? null : new TextAssembler(request.decoder(), request.stops());
        }
        long prefillNanos = 0;
        boolean argmaxOnly = request.sampling().greedy() && request.sampling().repetitionPenalty() == 1;
        try (NDManager gen = parent.newSubManager()) {
            var c = model.config();
            KvCache cache = new KvCache(gen, c.numLayers(), batch, c.numKvHeads(), capacity, c.headDim(),
                    model.tensorType());
            int past = 0;
            int[][] step = new int[batch][];
            int[][] positions = new int[batch][];
            for (int b = 0; b < batch; b++) {
                step[b] = new int[longest];
                positions[b] = new int[longest];
                System.arraycopy(prompts.get(b), 0, step[b], padding[b], prompts.get(b).length);
                for (int j = padding[b]; j < longest; j++) {
                    positions[b][j] = j - padding[b];
                }
            }
            int running = batch;
            for (int produced = 0; produced < request.maxNewTokens() && running > 0; produced++) {
                if (request.cancelled().getAsBoolean()) {
                    throw new CancellationException("generation cancelled after " + produced + " new tokens");
                }
                float[][] logits = null;
                long[] argmax = null;
                try (NDManager m = gen.newSubManager()) {
                    int t = step[0].length;
                    boolean[][] valid = slice(keyValid, past + t);
                    ForwardContext ctx = model.context(m, positions, valid, cache, past);
                    NDArray ids = m.create(flatten(step), new Shape(batch, t));
                    NDArray hidden = model.hidden(ids, ctx).get(new NDIndex(":, -1:, :"));
                    NDArray out = model.tensorType().float32(model.logits(hidden));
                    if (argmaxOnly) {
                        // greedy without penalties needs only the argmax: skip copying [B, V] logits to the host
                        argmax = out.argMax(-1).toLongArray();
                    } else {
                        float[] flat = out.toFloatArray();
                        int vocab = c.vocabSize();
                        logits = new float[batch][];
                        for (int b = 0; b < batch; b++) {
                            logits[b] = Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab);
                        }
                    }
                    past += t;
                }
                if (produced == 0) {
                    prefillNanos = System.nanoTime() - start;
                }
                int[][] next = new int[batch][1];
                int[][] nextPositions = new int[batch][1];
                for (int b = 0; b < batch; b++) {
                    int token = context[b][length[b] - 1];
                    if (finish[b] == null) {
                        token = argmax != null ? (int) argmax[b] : samplers[b].next(logits[b], context[b], length[b]);
                        context[b][length[b]++] = token;
                        finish[b] = accept(request, texts[b], token, listener, b);
                        if (finish[b] == null && produced + 1 == request.maxNewTokens()) {
                            finish[b] = FinishReason.LENGTH;
                            release(texts[b], listener, b, true);
                        }
                        if (finish[b] != null) {
                            running--;
                        }
                    }
                    next[b][0] = token;
                    nextPositions[b][0] = length[b] - 1;
                }
                step = next;
                positions = nextPositions;
            }
        }
        long total = System.nanoTime() - start;
        List<GenerationResult> results = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            int[] prompt = prompts.get(b);
            int[] generated = Arrays.copyOfRange(context[b], prompt.length, length[b]);
            String text = texts[b] == null ? null : texts[b].text();
            results.add(new GenerationResult(prompt.clone(), generated, text,
                    finish[b] == null ? FinishReason.LENGTH : finish[b], prefillNanos, total));
        }
        return results;
    }

    private static FinishReason accept(Request request, TextAssembler text, int token, PieceListener listener, int row) {
        if (request.eosTokenIds().contains(token)) {
            release(text, listener, row, true);
            return FinishReason.STOP;
        }
        if (text == null) {
            return null;
        }
        boolean stopped = text.add(token);
        release(text, listener, row, stopped);
        return stopped ? FinishReason.STOP : null;
    }

    private static void release(TextAssembler text, PieceListener listener, int row, boolean finished) {
        if (text == null) {
            return;
        }
        String piece = text.release(finished);
        if (listener != null && !piece.isEmpty()) {
            listener.onPiece(row, piece);
        }
    }

    private static boolean[][] slice(boolean[][] valid, int keys) {
        boolean[][] out = new boolean[valid.length][];
        for (int b = 0; b < valid.length; b++) {
            out[b] = Arrays.copyOf(valid[b], keys);
        }
        return out;
    }

    private static long[] flatten(int[][] rows) {
        int t = rows[0].length;
        long[] flat = new long[rows.length * t];
        for (int b = 0; b < rows.length; b++) {
            for (int j = 0; j < t; j++) {
                flat[b * t + j] = rows[b][j];
            }
        }
        return flat;
    }
}
