package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.from;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Causal self-attention of a training forward ({@link BlasTape}) from the q/k/v projections' fused output to the
 * attention's result, outside autograd, with its backward by hand: biases, rotary embeddings, the grouped layouts and
 * scaled dot-product attention as OpenBLAS GEMMs. libtorch's fused CPU kernel (flash attention over MKL) ran 12 layers
 * of B=4, H=12, KVH=4, T=S=256, D=64 in 365-475 ms forward + backward on a 2-core AMD EPYC (~70 GFLOP/s); the GEMMs
 * here ran them in 165-200 ms. Taking the biases, the rotation, the splits and transposes out of autograd too removes
 * their libtorch ops and their backward (a sixth of a LoRA step's autograd backward went there).
 *
 * <p>Legend as in {@link Attention}; G = H / KVH, W = (H + 2 KVH) D. The input is the leaf {@code y [B,T,W]} of the
 * taped q/k/v linear layer ({@link FusedQkv}): columns {@code [0, H D)} are the queries, then KVH D keys, then KVH D
 * values. The queries are gathered as {@code [B,KVH,T,G,D]}: for a key head, the G query heads of a position are
 * consecutive rows, so that any range of positions is one matrix of {@code G * positions} rows. The work is split
 * into one task per batch row and key head, each gathering its rows and running its blocks of {@link #BLOCK}
 * positions in order, spread over the cores by {@link GemmWorkers} (single-threaded GEMMs side by side: small GEMMs
 * split over OpenBLAS's own threads ran 2x slower). A block's GEMMs take only the keys up to the last one its queries
 * see ({@link #keyEnds}: under a causal mask at T = 4 blocks, 3/8 less work).
 *
 * <p>Forward: {@code Q, K, V} are gathered from {@code y} with their biases added and {@code Q, K} rotated
 * ({@link RotaryRows}, when the model has rotary positions); scores {@code S = scale Q K^T} into the tape's shared
 * workspace {@code [B,KVH,T,G,S]}; the mask is added and the rows soft-maxed by libtorch (one vectorized call over
 * all heads; Java's {@code Math.exp} would be far slower); {@code O = P V}, scattered into the {@code [B,T,H*D]}
 * layout that o_proj reads: an autograd leaf. Backward, per block while its rows are in cache, with {@code dO} the
 * leaf's gradient gathered to grouped rows: {@code dV += P^T dO}, {@code dP = dO V^T},
 * {@code dS = P ∘ (dP - rowsum(dO ∘ O))} (in P's memory), {@code dQ = scale dS K}, {@code dK += scale dS^T Q}; the
 * grouped rows sum {@code dK, dV} over the G query heads of a key head. {@code dV} and {@code dK} accumulate straight
 * into their columns of one {@code dY [B,T,W]}; {@code dQ}, and {@code dK} once complete, are rotated back there.
 * {@code dY} is handed to the q/k/v linear layer's step ({@link BlasTape#handGradient}, recorded before, run next)
 * and its column sums go to the biases' gradients: no autograd backward runs for the block.
 *
 * <p>Memory: the probabilities {@code P [B,H,T,S]} float32 are kept for the backward (12.6 MB a layer at the sizes
 * above, what libtorch's composed attention keeps too), with the gathered (biased, rotated) Q, K and V; two
 * workspaces per tape ({@link BlasTape#workspace}) hold scores or {@code dP}, and grouped rows. A query that sees no
 * key (masked with the lowest finite float, not -inf) gets the uniform distribution over all keys that autograd's
 * softmax gives it, and its gradient. Because P grows with {@code T * S}, a layer whose P would pass
 * {@link #MAX_PROBABILITY_BYTES} attends in libtorch's fused kernel instead ({@link #keepsLittle}), which keeps
 * {@code O(T)} per query head: at T = 2048 a Llama 3.1 8B layer's P alone would be 512 MiB per sequence.
 */
final class TapedAttention extends HandedOutput {
    /** Positions per block: each block's GEMMs stop at the last key one of its queries sees. */
    static final int BLOCK = 64;
    /** The most bytes of probabilities one layer's attention may keep for its backward on the tape (64 MiB). */
    static final long MAX_PROBABILITY_BYTES = 64L << 20;
    /** The tape's workspace of scores and dP ({@code [B,KVH,T,G,S]}). */
    private static final int SCORES = 0;
    /** The tape's workspace of grouped rows ({@code [B,KVH,T,G,D]}): O in the forward, dO then dQ in the backward. */
    private static final int ROWS = 1;
    private final BlasTape tape;
    private final FusedQkv qkv;
    private final RotaryRows rotary;
    private final FloatBuffer qs;
    private final FloatBuffer ks;
    private final FloatBuffer vs;
    private final NDArray probs;
    private final Dims dims;
    private final int[] keyEnds;

    /**
     * The q/k/v projections of a layer as one taped linear layer computed them (LoRA branches included), before
     * their biases.
     *
     * @param y the linear layer's output leaf {@code [B,T,(H+2 KVH) D]}: queries, keys, values by columns
     * @param heads H
     * @param kvHeads KVH
     * @param headDim D
     * @param biases the q, k and v biases ({@code [H D]}, {@code [KVH D]}, {@code [KVH D]}), or null when the
     *     projections have none
     */
    record FusedQkv(NDArray y, int heads, int kvHeads, int headDim, NDArray[] biases) {
        FusedQkv {
            long width = (long) (heads + 2 * kvHeads) * headDim;
            if (y.getShape().dimension() != 3 || y.getShape().get(2) != width) {
                throw new IllegalArgumentException("q/k/v output " + y.getShape() + " is not [B,T," + width + "]");
            }
            if (biases != null && biases.length != 3) {
                throw new IllegalArgumentException("expected the q, k and v biases, found " + biases.length);
            }
        }
    }

    /** The sizes of one attention call, and where its matrices start in the fused and the grouped layouts. */
    private record Dims(int batch, int heads, int kvHeads, int queries, int keys, int headDim, float scale) {
        int group() {
            return heads / kvHeads;
        }

        int blocks() {
            return (queries + BLOCK - 1) / BLOCK;
        }

        // columns of one row of y [B,T,W]
        int width() {
            return (heads + 2 * kvHeads) * headDim;
        }

        // position t's row of y (and of dY)
        int fused(int b, int t) {
            return (b * queries + t) * width();
        }

        // the first column of query head h in y
        int queryColumn(int h) {
            return h * headDim;
        }

        // the first column of key head kvh in y
        int keyColumn(int kvh) {
            return (heads + kvh) * headDim;
        }

        // the first column of value head kvh in y
        int valueColumn(int kvh) {
            return (heads + kvHeads + kvh) * headDim;
        }

        // position t's G query rows of key head kvh in [B,KVH,T,G,D]
        int query(int b, int kvh, int t) {
            return ((b * kvHeads + kvh) * queries + t) * group() * headDim;
        }

        // key head kvh's [S, D] in [B,KVH,S,D]
        int key(int b, int kvh) {
            return (b * kvHeads + kvh) * keys * headDim;
        }

        // position t's G score rows of key head kvh in [B,KVH,T,G,S]
        int score(int b, int kvh, int t) {
            return ((b * kvHeads + kvh) * queries + t) * group() * keys;
        }

        // grouped row r from position t0 of key head kvh, in [B,T,H*D]
        int output(int b, int kvh, int t0, int r) {
            return ((b * queries + t0 + r / group()) * heads + kvh * group() + r % group()) * headDim;
        }

        Shape grouped(int last) {
            return new Shape(batch, kvHeads, queries, group(), last);
        }

        Shape perKeyHead() {
            return new Shape(batch, kvHeads, keys, headDim);
        }
    }

    private TapedAttention(BlasTape tape, FusedQkv qkv, RotaryRows rotary, FloatBuffer qs, FloatBuffer ks,
            FloatBuffer vs, NDArray probs, NDArray out, Dims dims, int[] keyEnds) {
        super(out);
        this.tape = tape;
        this.qkv = qkv;
        this.rotary = rotary;
        this.qs = qs;
        this.ks = ks;
        this.vs = vs;
        this.probs = probs;
        this.dims = dims;
        this.keyEnds = keyEnds;
    }

    /**
     * Runs the forward and returns the step that backpropagates through it.
     *
     * @param tape the tape, whose {@link BlasTape#workspace} holds the scores and, in the backward, {@code dP}
     * @param manager where the forward's arrays live (closed after the backward)
     * @param qkv the q/k/v projections' output leaf and biases
     * @param cos rotary {@code cos [B,1,T,D]} float32, or null for a model without rotary positions
     * @param sin rotary {@code sin [B,1,T,D]} float32, or null for a model without rotary positions
     * @param mask additive float32 mask {@code [B,1,T,T]} (or {@code [1,1,T,T]}), or null
     * @param scale what the scores {@code Q K^T} are multiplied by
     * @return the step; {@link #output()} is the attention's result
     */
    static TapedAttention forward(BlasTape tape, NDManager manager, FusedQkv qkv, NDArray cos, NDArray sin,
            NDArray mask, float scale) {
        Shape yShape = qkv.y().getShape();
        int tokens = (int) yShape.get(1);
        Dims d = new Dims((int) yShape.get(0), qkv.heads(), qkv.kvHeads(), tokens, tokens, qkv.headDim(), scale);
        RotaryRows rotary = null;
        if (cos != null) {
            Shape expected = new Shape(d.batch, 1, d.queries, d.headDim);
            if (!cos.getShape().equals(expected) || !sin.getShape().equals(expected)) {
                throw new IllegalArgumentException("rotary tables " + cos.getShape() + ", " + sin.getShape()
                        + " are not " + expected);
            }
            rotary = tape.rotaryRows(cos, sin);
        }
        int[] keyEnds = keyEnds(d, mask);
        try (NoGradient off = NoGradient.scope()) {
            FloatBuffer qs = floats(manager.create(d.grouped(d.headDim), DataType.FLOAT32));
            FloatBuffer ks = floats(manager.create(d.perKeyHead(), DataType.FLOAT32));
            FloatBuffer vs = floats(manager.create(d.perKeyHead(), DataType.FLOAT32));
            Gather gather = new Gather(d, floats(qkv.y()), biasValues(qkv), rotary, qs, ks, vs);
            NDArray scores = tape.workspace(SCORES, d.grouped(d.keys));
            FloatBuffer ss = floats(scores);
            GemmWorkers.forEach(d.batch * d.kvHeads, unit -> {
                int b = unit / d.kvHeads;
                int kvh = unit % d.kvHeads;
                gather.run(b, kvh);
                scores(d, keyEnds, b, kvh, qs, ks, ss);
            });
            if (mask != null) {
                scores.addi(mask.reshape(mask.getShape().get(0), 1, d.queries, 1, d.keys));
            }
            NDArray probs = scores.softmax(-1);
            NDArray out = manager.create(new Shape(d.batch, d.queries, (long) d.heads * d.headDim),
                    DataType.FLOAT32);
            values(d, keyEnds, floats(probs), vs, floats(tape.workspace(ROWS, d.grouped(d.headDim))), floats(out));
            out.setRequiresGradient(true);
            return new TapedAttention(tape, qkv, rotary, qs, ks, vs, probs, out, d, keyEnds);
        }
    }

    /**
     * Whether an attention of these sizes keeps at most {@link #MAX_PROBABILITY_BYTES} of probabilities for its
     * backward, and so runs on the tape.
     *
     * @param batch B
     * @param heads H (query heads)
     * @param queries T
     * @param keys S
     * @return whether {@code B * H * T * S} float32 values fit
     */
    static boolean keepsLittle(long batch, long heads, long queries, long keys) {
        return batch * heads * queries * keys * Float.BYTES <= MAX_PROBABILITY_BYTES;
    }

    // the biases' values as Java arrays (q, k, v), or null
    private static float[][] biasValues(FusedQkv qkv) {
        if (qkv.biases() == null) {
            return null;
        }
        float[][] values = new float[3][];
        for (int i = 0; i < 3; i++) {
            values[i] = qkv.biases()[i].toFloatArray();
        }
        return values;
    }

    /**
     * Copies one batch row and key head's queries, key and value from {@code y} into the attention's layouts
     * ({@code [B,KVH,T,G,D]}, {@code [B,KVH,S,D]}), adding the biases and rotating queries and keys.
     */
    private record Gather(Dims d, FloatBuffer ys, float[][] biases, RotaryRows rotary, FloatBuffer qs,
            FloatBuffer ks, FloatBuffer vs) {
        void run(int b, int kvh) {
            float[] row = new float[d.headDim];
            float[] rotated = rotary == null ? row : new float[d.headDim];
            int g = d.group();
            for (int t = 0; t < d.queries; t++) {
                int fused = d.fused(b, t);
                for (int j = 0; j < g; j++) {
                    int h = kvh * g + j;
                    head(fused + d.queryColumn(h), 0, h, row);
                    if (rotary != null) {
                        rotary.rotate(row, rotated, b, t);
                    }
                    qs.put(d.query(b, kvh, t) + j * d.headDim, rotated);
                }
                head(fused + d.keyColumn(kvh), 1, kvh, row);
                if (rotary != null) {
                    rotary.rotate(row, rotated, b, t);
                }
                ks.put(d.key(b, kvh) + t * d.headDim, rotated);
                head(fused + d.valueColumn(kvh), 2, kvh, row);
                vs.put(d.key(b, kvh) + t * d.headDim, row);
            }
        }

        // one head's D values of y from `at`, plus head `h` of bias `which` (0 q, 1 k, 2 v)
        private void head(int at, int which, int h, float[] row) {
            ys.get(at, row);
            if (biases != null) {
                float[] bias = biases[which];
                for (int i = 0, o = h * d.headDim; i < d.headDim; i++) {
                    row[i] += bias[o + i];
                }
            }
        }
    }

    /**
     * Per batch row and block of {@link #BLOCK} positions, the keys its GEMMs take: up to the last key one of its
     * queries sees. A key counts as hidden where the mask is at most the lowest finite float; a query that sees no
     * key takes all of them, as autograd's softmax spreads it over all (a uniform distribution).
     */
    private static int[] keyEnds(Dims d, NDArray mask) {
        int[] ends = new int[d.batch * d.blocks()];
        Arrays.fill(ends, d.keys);
        if (mask == null) {
            return ends;
        }
        FloatBuffer m = floats(mask);
        boolean perRow = mask.getShape().get(0) != 1;
        for (int b = 0; b < d.batch; b++) {
            int base = perRow ? b * d.queries * d.keys : 0;
            for (int block = 0; block < d.blocks(); block++) {
                int end = 0;
                for (int t = block * BLOCK; t < Math.min(d.queries, (block + 1) * BLOCK) && end < d.keys; t++) {
                    int row = base + t * d.keys;
                    int j = d.keys;
                    while (j > end && m.get(row + j - 1) <= -Float.MAX_VALUE) {
                        j--;
                    }
                    boolean seesNone = j == 0 || j == end && seesNothing(m, row, end);
                    end = seesNone ? d.keys : Math.max(end, j);
                }
                ends[b * d.blocks() + block] = end;
            }
        }
        return ends;
    }

    private static boolean seesNothing(FloatBuffer mask, int row, int end) {
        for (int j = 0; j < end; j++) {
            if (mask.get(row + j) > -Float.MAX_VALUE) {
                return false;
            }
        }
        return true;
    }

    // one task per batch row and key head (its blocks run in order, so that dK and dV accumulate in one thread)
    private static void eachBlock(Dims d, int[] keyEnds, BlockGemm gemm) {
        GemmWorkers.forEach(d.batch * d.kvHeads,
                unit -> eachBlockOf(d, keyEnds, unit / d.kvHeads, unit % d.kvHeads, gemm));
    }

    // the blocks of one batch row and key head, in order
    private static void eachBlockOf(Dims d, int[] keyEnds, int b, int kvh, BlockGemm gemm) {
        for (int block = 0; block < d.blocks(); block++) {
            int t0 = block * BLOCK;
            int rows = (Math.min(d.queries, t0 + BLOCK) - t0) * d.group();
            gemm.run(b, kvh, t0, rows, keyEnds[b * d.blocks() + block]);
        }
    }

    /** One GEMM of a block: {@code rows} grouped query rows from position {@code t0}, the first {@code keys} keys. */
    private interface BlockGemm {
        void run(int b, int kvh, int t0, int rows, int keys);
    }

    // S = scale Q K^T for one batch row and key head; the keys a block skips are zeroed (the mask then hides them) so
    // that the softmax stays finite
    private static void scores(Dims d, int[] keyEnds, int b, int kvh, FloatBuffer qs, FloatBuffer ks,
            FloatBuffer ss) {
        float[] zeros = new float[d.keys];
        eachBlockOf(d, keyEnds, b, kvh, (bb, kk, t0, rows, keys) -> {
            FloatBuffer block = from(ss, d.score(b, kvh, t0));
            OpenBlas.gemm(false, true, rows, keys, d.headDim, d.scale, from(qs, d.query(b, kvh, t0)), d.headDim,
                    from(ks, d.key(b, kvh)), d.headDim, 0f, block, d.keys);
            for (int r = 0; keys < d.keys && r < rows; r++) {
                block.put(r * d.keys + keys, zeros, 0, d.keys - keys);
            }
        });
    }

    // O = P V, grouped rows, then to [B,T,H*D]
    private static void values(Dims d, int[] keyEnds, FloatBuffer ps, FloatBuffer vs, FloatBuffer rows,
            FloatBuffer outs) {
        eachBlock(d, keyEnds, (b, kvh, t0, count, keys) -> {
            OpenBlas.gemm(false, false, count, d.headDim, keys, 1f, from(ps, d.score(b, kvh, t0)), d.keys,
                    from(vs, d.key(b, kvh)), d.headDim, 0f, from(rows, d.query(b, kvh, t0)), d.headDim);
            float[] row = new float[d.headDim];
            for (int r = 0; r < count; r++) {
                rows.get(d.query(b, kvh, t0) + r * d.headDim, row);
                outs.put(d.output(b, kvh, t0, r), row);
            }
        });
    }

    @Override
    public void backward(NDManager manager) {
        NDArray dOut = outputGradient();   // handed over by o_proj's step
        if (dOut == null) {
            return;
        }
        Dims d = dims;
        NDArray dy = manager.create(qkv.y().getShape(), DataType.FLOAT32);
        FloatBuffer douts = floats(dOut);
        FloatBuffer outs = floats(output());
        FloatBuffer ps = floats(probs);
        FloatBuffer dps = floats(tape.workspace(SCORES, probs.getShape()));
        FloatBuffer rows = floats(tape.workspace(ROWS, d.grouped(d.headDim)));
        FloatBuffer dys = floats(dy);
        int ldy = d.width();
        GemmWorkers.forEach(d.batch * d.kvHeads, unit -> {
            int b = unit / d.kvHeads;
            int kvh = unit % d.kvHeads;
            FloatBuffer dks = from(dys, d.fused(b, 0) + d.keyColumn(kvh));
            FloatBuffer dvs = from(dys, d.fused(b, 0) + d.valueColumn(kvh));
            clearKeyAndValueGradients(d, b, kvh, dys);
            // all of a block's backward while its rows are in cache
            eachBlockOf(d, keyEnds, b, kvh, (bb, kk, t0, count, keys) -> {
                int scores = d.score(b, kvh, t0);
                int grouped = d.query(b, kvh, t0);
                float[] deltas = gatherOutputGradient(d, b, kvh, t0, count, douts, outs, rows);
                // dV += P^T dO, into dY's value columns
                OpenBlas.gemm(true, false, keys, d.headDim, count, 1f, from(ps, scores), d.keys,
                        from(rows, grouped), d.headDim, 1f, dvs, ldy);
                // dP = dO V^T
                OpenBlas.gemm(false, true, count, keys, d.headDim, 1f, from(rows, grouped), d.headDim,
                        from(vs, d.key(b, kvh)), d.headDim, 0f, from(dps, scores), d.keys);
                // dS = P ∘ (dP - rowsum(dO ∘ O)), into P's memory (P is read no more), a row at a time through
                // Java arrays so that the JIT vectorizes it
                float[] p = new float[keys];
                float[] dp = new float[keys];
                for (int r = 0; r < count; r++) {
                    float delta = deltas[r];
                    int at = scores + r * d.keys;
                    ps.get(at, p);
                    dps.get(at, dp);
                    for (int j = 0; j < keys; j++) {
                        p[j] *= dp[j] - delta;
                    }
                    ps.put(at, p);
                }
                // dQ = scale dS K, over dO's rows, then rotated back into dY's query columns
                OpenBlas.gemm(false, false, count, d.headDim, keys, d.scale, from(ps, scores), d.keys,
                        from(ks, d.key(b, kvh)), d.headDim, 0f, from(rows, grouped), d.headDim);
                scatterQueryGradient(d, rotary, b, kvh, t0, count, rows, dys);
                // dK += scale dS^T Q, into dY's key columns
                OpenBlas.gemm(true, false, keys, d.headDim, count, d.scale, from(ps, scores), d.keys,
                        from(qs, grouped), d.headDim, 1f, dks, ldy);
            });
            if (rotary != null) {
                rotateKeyGradientBack(d, rotary, b, kvh, dys);
            }
        });
        dOut.close();
        probs.close();
        biasGradients(manager, dys);
        tape.handGradient(qkv.y(), dy);   // the q/k/v layer's step reads it next, and closes it
    }

    /** Zeroes one batch row and key head's key and value columns of {@code dY}, which the blocks accumulate into. */
    private static void clearKeyAndValueGradients(Dims d, int b, int kvh, FloatBuffer dys) {
        float[] zeros = new float[d.headDim];
        for (int t = 0; t < d.keys; t++) {
            dys.put(d.fused(b, t) + d.keyColumn(kvh), zeros);
            dys.put(d.fused(b, t) + d.valueColumn(kvh), zeros);
        }
    }

    /** Turns one batch row and key head's complete key gradient in {@code dY} into that of the unrotated keys. */
    private static void rotateKeyGradientBack(Dims d, RotaryRows rotary, int b, int kvh, FloatBuffer dys) {
        float[] row = new float[d.headDim];
        float[] back = new float[d.headDim];
        for (int t = 0; t < d.keys; t++) {
            int at = d.fused(b, t) + d.keyColumn(kvh);
            dys.get(at, row);
            rotary.rotateBack(row, back, b, t);
            dys.put(at, back);
        }
    }

    /**
     * Adds {@code dY}'s column sums over all rows to the gradient of each bias that trains: a bias is added to every
     * row of its columns of {@code y}.
     */
    private void biasGradients(NDManager manager, FloatBuffer dys) {
        NDArray[] biases = qkv.biases();
        if (biases == null) {
            return;
        }
        int[] firstColumns = {dims.queryColumn(0), dims.keyColumn(0), dims.valueColumn(0)};
        for (int i = 0; i < biases.length; i++) {
            NDArray bias = biases[i];
            if (JniUtils.requiresGrad(pt(bias))) {
                NDArray g = manager.create(columnSums(dys, dims, firstColumns[i], (int) bias.size()),
                        bias.getShape());
                HostArrays.accumulateGradient(bias, g);
                g.close();
            }
        }
    }

    // the sums over all rows of dY's columns [first, first + count)
    private static float[] columnSums(FloatBuffer dys, Dims d, int first, int count) {
        double[] sums = new double[count];
        float[] row = new float[count];
        for (int r = 0, rows = d.batch * d.queries; r < rows; r++) {
            dys.get(r * d.width() + first, row);
            for (int c = 0; c < count; c++) {
                sums[c] += row[c];
            }
        }
        float[] out = new float[count];
        for (int c = 0; c < count; c++) {
            out[c] = (float) sums[c];
        }
        return out;
    }

    /**
     * Copies a block's rows of {@code dO} from {@code [B,T,H*D]} to the grouped layout, and returns each row's
     * {@code rowsum(P ∘ dP) = rowsum(dO ∘ O)} (a sum over D instead of S).
     */
    private static float[] gatherOutputGradient(Dims d, int b, int kvh, int t0, int count, FloatBuffer douts,
            FloatBuffer outs, FloatBuffer rows) {
        float[] deltas = new float[count];
        float[] dRow = new float[d.headDim];
        float[] oRow = new float[d.headDim];
        for (int r = 0; r < count; r++) {
            int from = d.output(b, kvh, t0, r);
            douts.get(from, dRow);
            outs.get(from, oRow);
            float sum = 0f;
            for (int i = 0; i < d.headDim; i++) {
                sum += dRow[i] * oRow[i];
            }
            deltas[r] = sum;
            rows.put(d.query(b, kvh, t0) + r * d.headDim, dRow);
        }
        return deltas;
    }

    /** Copies a block's rows of {@code dQ} from the grouped layout to dY's query columns, rotated back. */
    private static void scatterQueryGradient(Dims d, RotaryRows rotary, int b, int kvh, int t0, int count,
            FloatBuffer rows, FloatBuffer dys) {
        float[] row = new float[d.headDim];
        float[] back = rotary == null ? row : new float[d.headDim];
        int g = d.group();
        for (int r = 0; r < count; r++) {
            int t = t0 + r / g;
            rows.get(d.query(b, kvh, t0) + r * d.headDim, row);
            if (rotary != null) {
                rotary.rotateBack(row, back, b, t);
            }
            dys.put(d.fused(b, t) + d.queryColumn(kvh * g + r % g), back);
        }
    }
}
