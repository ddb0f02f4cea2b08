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

    /**
     * Turns the prefill's token ids into input embeddings, for models whose prompts carry more than tokens (a
     * vision-language model puts projected image patches at its image-token positions). Decode steps after the
     * prefill embed their single new token as usual.
     */
    @FunctionalInterface
    public interface PromptEmbedder {
        /**
         * Embeds the (left-padded) prompts.
         *
         * @param ids {@code [B,T]} int64 prompt ids, owned by the prefill's manager
         * @return {@code [B,T,C]} input embeddings in the model's type
         */
        NDArray embed(NDArray ids);
    }

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
        return generate(model, parent, prompts, request, listener, null);
    }

    /**
     * Generates for a batch of prompts whose prefill runs from input embeddings.
     *
     * @param model the model
     * @param parent manager under which per-generation arrays are made
     * @param prompts non-empty prompts (validated by the caller)
     * @param request settings
     * @param listener receives streamed pieces, or null
     * @param embedder embeds the prefill's ids, or null to look them up in the model's embedding table
     * @return one result per prompt, in order
     */
    public static List<GenerationResult> generate(DecoderModel model, NDManager parent, List<int[]> prompts,
            Request request, PieceListener listener, PromptEmbedder embedder) {
        long start = System.nanoTime();
        int batch = prompts.size();
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
        int capacity = longest + request.maxNewTokens();
        boolean[][] keyValid = new boolean[batch][capacity];
        SequenceState[] seqs = new SequenceState[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            Arrays.fill(keyValid[b], longest - p.length, capacity, true);
            seqs[b] = new SequenceState(p, request, b, listener, b);
        }
        long prefillNanos = 0;
        try (NDManager gen = parent.newSubManager()) {
            var c = model.config();
            KvCache cache = new KvCache(gen, c.numLayers(), batch, c.numKvHeads(), capacity, c.headDim(),
                    model.tensorType());
            int past = 0;
            int[][] step = new int[batch][];
            int[][] positions = new int[batch][];
            for (int b = 0; b < batch; b++) {
                int padding = longest - prompts.get(b).length;
                step[b] = new int[longest];
                positions[b] = new int[longest];
                System.arraycopy(prompts.get(b), 0, step[b], padding, prompts.get(b).length);
                for (int j = padding; j < longest; j++) {
                    positions[b][j] = j - padding;
                }
            }
            int running = batch;
            for (int produced = 0; produced < request.maxNewTokens() && running > 0; produced++) {
                if (request.cancelled().getAsBoolean()) {
                    throw new CancellationException("generation cancelled after " + produced + " new tokens");
                }
                // a batch of one has no padding, so its decode step's position is also its cache slot (past)
                float[] hostLogits = produced > 0 && batch == 1
                        ? model.decodeOnHost(gen, step[0][0], positions[0][0], cache)
                        : null;
                int[] chosen;
                if (hostLogits != null) {
                    chosen = new int[] {choose(hostLogits, seqs[0])};
                    past++;
                } else {
                    try (NDManager m = gen.newSubManager()) {
                        int t = step[0].length;
                        boolean[][] valid = slice(keyValid, past + t);
                        ForwardContext ctx = model.context(m, positions, valid, cache, past);
                        NDArray ids = m.create(flatten(step), new Shape(batch, t));
                        NDArray x = produced == 0 && embedder != null ? embedder.embed(ids) : model.embed(ids);
                        NDArray hidden = model.hiddenFromEmbeddings(x, ctx).get(new NDIndex(":, -1:, :"));
                        chosen = choose(model, hidden, seqs);
                        past += t;
                    }
                }
                if (produced == 0) {
                    prefillNanos = System.nanoTime() - start;
                }
                int[][] next = new int[batch][1];
                int[][] nextPositions = new int[batch][1];
                for (int b = 0; b < batch; b++) {
                    if (!seqs[b].finished() && seqs[b].append(chosen[b])) {
                        running--;
                    }
                    next[b][0] = seqs[b].lastToken();
                    nextPositions[b][0] = seqs[b].length() - 1;
                }
                step = next;
                positions = nextPositions;
            }
        }
        long total = System.nanoTime() - start;
        List<GenerationResult> results = new ArrayList<>(batch);
        for (SequenceState s : seqs) {
            results.add(s.result(prefillNanos, total));
        }
        return results;
    }

    /**
     * Picks every row's next token from the last hidden states: on the device by argmax when all rows are greedy
     * without a penalty (no {@code [B, V]} copy to the host), else per row by its sampler.
     *
     * @param model the model
     * @param hidden {@code [B,1,C]} final-normed hidden states of the last position
     * @param seqs the rows' sequences (finished ones get a token that is ignored)
     * @return one token per row
     */
    static int[] choose(DecoderModel model, NDArray hidden, SequenceState[] seqs) {
        NDArray out = model.tensorType().float32(model.logits(hidden));
        int batch = seqs.length;
        int[] chosen = new int[batch];
        boolean argmaxOnly = true;
        for (SequenceState s : seqs) {
            SamplingSettings st = s.request().sampling();
            argmaxOnly &= st.greedy() && st.repetitionPenalty() == 1;
        }
        if (argmaxOnly) {
            long[] argmax = out.argMax(-1).toLongArray();
            for (int b = 0; b < batch; b++) {
                chosen[b] = (int) argmax[b];
            }
            return chosen;
        }
        float[] flat = out.toFloatArray();
        int vocab = model.config().vocabSize();
        for (int b = 0; b < batch; b++) {
            if (!seqs[b].finished()) {
                chosen[b] = seqs[b].sample(Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab));
            }
        }
        return chosen;
    }

    /**
     * Picks one sequence's next token from its logits on the host: the first maximal logit when greedy without a
     * penalty (what {@link #choose(DecoderModel, NDArray, SequenceState[])} takes on the device), else its sampler's
     * choice.
     *
     * @param logits {@code [V]} float32 logits of the sequence's last position (modified by the sampler)
     * @param seq the sequence
     * @return the token
     */
    static int choose(float[] logits, SequenceState seq) {
        SamplingSettings st = seq.request().sampling();
        return st.greedy() && st.repetitionPenalty() == 1 ? Sampler.argmax(logits) : seq.sample(logits);
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
