package org.llmkit.api.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.KvCache;
import org.llmkit.api.model.NoGradient;

/**
 * Continuous batching: a changing set of sequences, each with its own prompt, sampling settings, stop rules and
 * KV cache, advanced together by one forward pass per {@link #step()}. New sequences join between steps
 * ({@link #admit}: their prompt is prefilled into a free cache row) and finished ones leave at once, so a long
 * generation never holds up a short one and the batch stays full under load.
 *
 * <p>Memory: one KV cache of {@code maxSequences} rows; every row holds up to the longest admitted sequence
 * (prompt + {@code maxNewTokens}), so the cache grows (by reallocation) when a longer one is admitted. Admission
 * is refused ({@link #canAdmit}) when every row is busy or the reserved tokens of the running sequences plus the
 * new one would exceed {@code maxKvTokens}. Live sequences are kept in the leading rows (a finished row is
 * refilled by moving the last one), so each step runs over exactly the live rows.
 *
 * <p>Each sequence produces exactly what {@link Generator} produces for it alone (same sampler seed, same stop
 * handling); only floating-point summation order differs. Not thread-safe: one thread calls
 * {@link #admit}, {@link #step()} and {@link #close()} (the listeners are called on that thread).
 */
public final class BatchDecoder implements AutoCloseable {
    /** Initial tokens per cache row; rows grow when a longer sequence is admitted. */
    private static final int INITIAL_CAPACITY = 256;

    /** Receives the progress of one sequence, on the thread that calls {@link #admit} and {@link #step()}. */
    public interface Listener {
        /**
         * A piece of text became final.
         *
         * @param piece the new text, non-empty
         */
        void onPiece(String piece);

        /**
         * The sequence ended normally (EOS, stop string or length).
         *
         * @param result tokens, text, finish reason and timings
         */
        void onComplete(GenerationResult result);

        /**
         * The sequence was cancelled ({@link CancellationException}) or the forward pass failed.
         *
         * @param error the cause
         */
        void onFailure(Throwable error);
    }

    private final DecoderModel model;
    private final NDManager manager;
    private final int maxSequences;
    private final long maxKvTokens;
    private final int maxContext;
    private final List<Live> live = new ArrayList<>();
    private KvCache cache;
    private long reserved;
    private boolean closed;

    /**
     * Creates an empty batch; no memory is allocated until the first {@link #admit}.
     *
     * @param model the model (inference path)
     * @param parent manager under which the cache is made
     * @param maxSequences rows of the batch; &gt; 0
     * @param maxKvTokens cap on the sum of prompt + {@code maxNewTokens} over running sequences; &gt; 0
     */
    public BatchDecoder(DecoderModel model, NDManager parent, int maxSequences, long maxKvTokens) {
        if (maxSequences <= 0) {
            throw new IllegalArgumentException("maxSequences must be > 0 but is " + maxSequences);
        }
        if (maxKvTokens <= 0) {
            throw new IllegalArgumentException("maxKvTokens must be > 0 but is " + maxKvTokens);
        }
        this.model = model;
        this.manager = parent.newSubManager();
        this.maxSequences = maxSequences;
        this.maxKvTokens = maxKvTokens;
        this.maxContext = model.config().maxPositionEmbeddings();
    }

    /** @return sequences running now */
    public int running() {
        return live.size();
    }

    /** @return prompt + {@code maxNewTokens} summed over the running sequences */
    public long reservedTokens() {
        return reserved;
    }

    /** @return the cap on {@link #reservedTokens()} */
    public long maxKvTokens() {
        return maxKvTokens;
    }

    /** @return the number of rows */
    public int maxSequences() {
        return maxSequences;
    }

    /**
     * @param promptLength the prompt's tokens
     * @param maxNewTokens tokens to generate at most
     * @return whether {@link #admit} would accept such a sequence now
     */
    public boolean canAdmit(int promptLength, int maxNewTokens) {
        return !closed && live.size() < maxSequences && reserved + promptLength + maxNewTokens <= maxKvTokens;
    }

    /**
     * @param promptLength the prompt's tokens
     * @param maxNewTokens tokens to generate at most
     * @return whether such a sequence could ever be admitted (it fits the token cap and the model's context)
     */
    public boolean fits(int promptLength, int maxNewTokens) {
        long need = (long) promptLength + maxNewTokens;
        return need <= maxKvTokens && need <= maxContext;
    }

    /**
     * Admits a sequence: prefills its prompt into a free row and chooses its first token (streamed to the
     * listener). A sequence that ends at once (EOS first, or {@code maxNewTokens == 1}) completes here.
     *
     * @param prompt the prompt ids, valid for the model
     * @param request sampling, limits and stops; its {@code cancelled} is polled before every step
     * @param listener receives pieces and the outcome
     * @throws IllegalStateException when {@link #canAdmit} is false
     * @throws IllegalArgumentException when the sequence can never fit ({@link #fits} is false)
     */
    public void admit(int[] prompt, Generator.Request request, Listener listener) {
        int need = prompt.length + request.maxNewTokens();
        if (!fits(prompt.length, request.maxNewTokens())) {
            throw new IllegalArgumentException("a prompt of " + prompt.length + " tokens + maxNewTokens "
                    + request.maxNewTokens() + " exceeds the KV-token cap (" + maxKvTokens
                    + ") or the model's context (" + maxContext + ")");
        }
        if (!canAdmit(prompt.length, request.maxNewTokens())) {
            throw new IllegalStateException(closed ? "the batch is closed" : "no room: " + live.size() + "/"
                    + maxSequences + " sequences, " + reserved + "/" + maxKvTokens + " KV tokens reserved");
        }
        long start = System.nanoTime();
        ensureCapacity(need);
        int row = live.size();
        Live s = new Live(new SequenceState(prompt.clone(), request, 0, (r, piece) -> listener.onPiece(piece), row),
                listener, start, need);
        boolean done;
        try (NoGradient g = NoGradient.scope(); NDManager m = manager.newSubManager(); KvCache slot = cache.slot(row)) {
            int[][] positions = new int[1][prompt.length];
            long[] ids = new long[prompt.length];
            for (int j = 0; j < prompt.length; j++) {
                positions[0][j] = j;
                ids[j] = prompt[j];
            }
            ForwardContext ctx = model.context(m, positions, null, slot, 0);
            NDArray hidden = model.hidden(m.create(ids, new Shape(1, prompt.length)), ctx)
                    .get(new NDIndex(":, -1:, :"));
            int first = Generator.choose(model, hidden, new SequenceState[] {s.state})[0];
            s.prefillNanos = System.nanoTime() - start;
            done = s.state.append(first);
        } catch (RuntimeException e) {
            listener.onFailure(e);
            return;
        }
        if (done) {
            listener.onComplete(s.state.result(s.prefillNanos, System.nanoTime() - start));
            return;
        }
        live.add(s);
        reserved += need;
    }

    /**
     * Polls cancellations, then generates one token for every running sequence in one forward pass and retires
     * the ones that ended.
     *
     * @return sequences still running afterwards
     */
    public int step() {
        for (int b = live.size() - 1; b >= 0; b--) {
            Live s = live.get(b);
            if (s.state.request().cancelled().getAsBoolean()) {
                retire(b);
                s.listener.onFailure(new CancellationException("generation cancelled after "
                        + s.state.generated() + " new tokens"));
            }
        }
        int n = live.size();
        if (n == 0) {
            return 0;
        }
        SequenceState[] seqs = new SequenceState[n];
        int[] positions = new int[n];
        long[] ids = new long[n];
        for (int b = 0; b < n; b++) {
            seqs[b] = live.get(b).state;
            positions[b] = seqs[b].length() - 1;
            ids[b] = seqs[b].lastToken();
        }
        int[] chosen;
        try (NoGradient g = NoGradient.scope()) {
            chosen = n == 1 ? decodeOnHost(seqs[0], positions[0]) : null;
            if (chosen == null) {
                chosen = decode(seqs, positions, ids);
            }
        } catch (RuntimeException e) {
            failAll(e);
            return 0;
        }
        for (int b = n - 1; b >= 0; b--) {
            Live s = live.get(b);
            boolean done;
            try {
                done = s.state.append(chosen[b]);
            } catch (RuntimeException e) {
                retire(b);
                s.listener.onFailure(e);
                continue;
            }
            if (done) {
                retire(b);
                s.listener.onComplete(s.state.result(s.prefillNanos, System.nanoTime() - s.start));
            }
        }
        return live.size();
    }

    // the only live sequence is in row 0: the whole step on the host, or null when the model's path does not apply
    private int[] decodeOnHost(SequenceState seq, int position) {
        float[] logits = model.decodeOnHost(manager, seq.lastToken(), position, cache);
        return logits == null ? null : new int[] {Generator.choose(logits, seq)};
    }

    // one forward pass over the first n rows, each writing at its own position
    private int[] decode(SequenceState[] seqs, int[] positions, long[] ids) {
        int n = seqs.length;
        try (NDManager m = manager.newSubManager(); KvCache rows = cache.rows(n)) {
            ForwardContext ctx = model.stepContext(m, positions, rows);
            NDArray hidden = model.hidden(m.create(ids, new Shape(n, 1)), ctx);
            return Generator.choose(model, hidden, seqs);
        }
    }

    /**
     * Cancels every running sequence (listeners get a {@link CancellationException}) and frees the cache.
     * Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        failAll(new CancellationException("the batch was closed"));
        manager.close();
    }

    private void failAll(Throwable error) {
        List<Live> all = new ArrayList<>(live);
        live.clear();
        reserved = 0;
        for (Live s : all) {
            s.listener.onFailure(error);
        }
    }

    // removes row b, moving the last live row into its place so that live rows stay leading
    private void retire(int b) {
        int last = live.size() - 1;
        Live gone = live.get(b);
        if (b != last) {
            Live moved = live.get(last);
            cache.moveRow(last, b, moved.state.length() - 1);
            live.set(b, moved);
        }
        live.remove(last);
        reserved -= gone.reserved;
    }

    private void ensureCapacity(int need) {
        var c = model.config();
        if (cache == null) {
            int capacity = Math.min(maxContext, Math.max(need, INITIAL_CAPACITY));
            cache = new KvCache(manager, c.numLayers(), maxSequences, c.numKvHeads(), capacity, c.headDim(),
                    model.tensorType());
        } else if (need > cache.capacity()) {
            int filled = live.stream().mapToInt(s -> s.state.length()).max().orElse(0);
            int capacity = Math.min(maxContext, Math.max(need, 2 * cache.capacity()));
            cache.grow(capacity, filled, model.tensorType());
        }
    }

    /** A running sequence and its bookkeeping. */
    private static final class Live {
        final SequenceState state;
        final Listener listener;
        final long start;
        final long reserved;
        long prefillNanos;

        Live(SequenceState state, Listener listener, long start, long reserved) {
            this.state = state;
            this.listener = listener;
            this.start = start;
            this.reserved = reserved;
        }
    }
}
