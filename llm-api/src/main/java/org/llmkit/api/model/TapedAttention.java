package org.llmkit.api.model;

import static org.llmkit.api.model.BlasTape.floats;
import static org.llmkit.api.model.BlasTape.from;
import static org.llmkit.api.model.BlasTape.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Scaled dot-product attention of a training forward ({@link BlasTape}) as OpenBLAS GEMMs outside autograd, with
 * its backward by hand. libtorch's fused CPU kernel (flash attention over MKL) ran 12 layers of B=4, H=12, KVH=4,
 * T=S=256, D=64 in 365-475 ms forward + backward on a 2-core AMD EPYC (~70 GFLOP/s); this ran them in 165-200 ms.
 *
 * <p>Legend as in {@link Attention}; G = H / KVH. The queries are regrouped as {@code [B,KVH,T,G,D]}: for a key
 * head, the G query heads of a position are consecutive rows, so that any range of positions is one matrix of
 * {@code G * positions} rows. The work is split into one task per batch row and key head, each running its blocks of
 * {@link #BLOCK} positions in order, spread over the cores by {@link GemmWorkers} (single-threaded GEMMs side by
 * side: small GEMMs split over OpenBLAS's own threads ran 2x slower). A block's GEMMs take only the keys up to the
 * last one its queries see ({@link #keyEnds}: under a causal mask at T = 4 blocks, 3/8 less work).
 *
 * <p>Forward: scores {@code S = scale Q K^T} into the tape's shared workspace {@code [B,KVH,T,G,S]}; the mask is
 * added and the rows soft-maxed by libtorch (one vectorized call over all heads; Java's {@code Math.exp} would be far
 * slower); {@code O = P V}, scattered into the {@code [B,T,H*D]} layout that o_proj reads: an autograd leaf.
 * Backward, per block while its rows are in cache, with {@code dO} the leaf's gradient gathered to grouped rows:
 * {@code dV += P^T dO}, {@code dP = dO V^T}, {@code dS = P ∘ (dP - rowsum(dO ∘ O))} (in P's memory),
 * {@code dQ = scale dS K}, {@code dK += scale dS^T Q}; the grouped rows sum {@code dK, dV} over the G query heads of
 * a key head. {@code dQ, dK, dV} go into autograd through q, k and v (after rotary embeddings).
 *
 * <p>Memory: the probabilities {@code P [B,H,T,S]} float32 are kept for the backward (12.6 MB a layer at the sizes
 * above, what libtorch's composed attention keeps too), with a regrouped copy of Q and contiguous copies of K and V
 * where they are views; two workspaces per tape ({@link BlasTape#workspace}) hold scores or {@code dP}, and grouped
 * rows. A query that sees no key (masked with the lowest finite float, not -inf) gets the uniform distribution over
 * all keys that autograd's softmax gives it, and its gradient.
 */
final class TapedAttention implements BlasTape.Step {
    /** Positions per block: each block's GEMMs stop at the last key one of its queries sees. */
    static final int BLOCK = 64;
    /** The tape's workspace of scores and dP ({@code [B,KVH,T,G,S]}). */
    private static final int SCORES = 0;
    /** The tape's workspace of grouped rows ({@code [B,KVH,T,G,D]}): O in the forward, dO then dQ in the backward. */
    private static final int ROWS = 1;
    private final BlasTape tape;
    private final NDArray q;
    private final NDArray k;
    private final NDArray v;
    private final FloatBuffer qs;
    private final FloatBuffer ks;
    private final FloatBuffer vs;
    private final NDArray probs;
    private final NDArray out;
    private final Dims dims;
    private final int[] keyEnds;

    /** The sizes of one attention call, and where its matrices start in the grouped layouts. */
    private record Dims(int batch, int heads, int kvHeads, int queries, int keys, int headDim, float scale) {
        int group() {
            return heads / kvHeads;
        }

        int blocks() {
            return (queries + BLOCK - 1) / BLOCK;
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
    }

    private TapedAttention(BlasTape tape, NDArray q, NDArray k, NDArray v, FloatBuffer qs, FloatBuffer ks,
            FloatBuffer vs, NDArray probs, NDArray out, Dims dims, int[] keyEnds) {
        this.tape = tape;
        this.q = q;
        this.k = k;
        this.v = v;
        this.qs = qs;
        this.ks = ks;
        this.vs = vs;
        this.probs = probs;
        this.out = out;
        this.dims = dims;
        this.keyEnds = keyEnds;
    }

    /**
     * Runs the forward and returns the step that backpropagates through it.
     *
     * @param tape the tape, whose {@link BlasTape#workspace} holds the scores and, in the backward, {@code dP}
     * @param manager where the forward's arrays live (closed after the backward)
     * @param q queries {@code [B,H,T,D]} float32, in the graph
     * @param k keys {@code [B,KVH,S,D]} float32, in the graph
     * @param v values {@code [B,KVH,S,D]} float32, in the graph
     * @param mask additive float32 mask {@code [B,1,T,S]} (or {@code [1,1,T,S]}), or null
     * @param scale what the scores {@code Q K^T} are multiplied by
     * @return the step; {@link #output()} is the attention's result
     */
    static TapedAttention forward(BlasTape tape, NDManager manager, NDArray q, NDArray k, NDArray v, NDArray mask,
            float scale) {
        Shape qShape = q.getShape();
        Shape kShape = k.getShape();
        Dims d = new Dims((int) qShape.get(0), (int) qShape.get(1), (int) kShape.get(1), (int) qShape.get(2),
                (int) kShape.get(2), (int) qShape.get(3), scale);
        int[] keyEnds = keyEnds(d, mask);
        NDArray probs;
        NDArray out;
        FloatBuffer qs;
        try (NoGradient off = NoGradient.scope()) {
            qs = floats(q.stopGradient().reshape(d.batch, d.kvHeads, d.group(), d.queries, d.headDim)
                    .transpose(0, 1, 3, 2, 4));
            FloatBuffer ks = floats(k);
            FloatBuffer vs = floats(v);
            NDArray scores = tape.workspace(SCORES, d.grouped(d.keys));
            scores(d, keyEnds, qs, ks, floats(scores));
            if (mask != null) {
                scores.addi(mask.reshape(mask.getShape().get(0), 1, d.queries, 1, d.keys));
            }
            probs = scores.softmax(-1);
            out = manager.create(new Shape(d.batch, d.queries, (long) d.heads * d.headDim), DataType.FLOAT32);
            values(d, keyEnds, floats(probs), vs, floats(tape.workspace(ROWS, d.grouped(d.headDim))), floats(out));
            out.setRequiresGradient(true);
            return new TapedAttention(tape, q, k, v, qs, ks, vs, probs, out, d, keyEnds);
        }
    }

    /** @return the attention's result {@code [B,T,H*D]}, a leaf whose gradient {@link #backward} reads */
    NDArray output() {
        return out;
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

    /** Calls {@code gemm} for each batch row, key head and block of positions, on {@link GemmWorkers}. */
    private void eachBlock(BlockGemm gemm) {
        eachBlock(dims, keyEnds, gemm);
    }

    // one task per batch row and key head (its blocks run in order, so that dK and dV accumulate in one thread)
    private static void eachBlock(Dims d, int[] keyEnds, BlockGemm gemm) {
        GemmWorkers.forEach(d.batch * d.kvHeads, unit -> {
            int b = unit / d.kvHeads;
            int kvh = unit % d.kvHeads;
            for (int block = 0; block < d.blocks(); block++) {
                int t0 = block * BLOCK;
                int rows = (Math.min(d.queries, t0 + BLOCK) - t0) * d.group();
                gemm.run(b, kvh, t0, rows, keyEnds[b * d.blocks() + block]);
            }
        });
    }

    /** One GEMM of a block: {@code rows} grouped query rows from position {@code t0}, the first {@code keys} keys. */
    private interface BlockGemm {
        void run(int b, int kvh, int t0, int rows, int keys);
    }

    // S = scale Q K^T; the keys a block skips are zeroed (the mask then hides them) so that the softmax stays finite
    private static void scores(Dims d, int[] keyEnds, FloatBuffer qs, FloatBuffer ks, FloatBuffer ss) {
        float[] zeros = new float[d.keys];
        eachBlock(d, keyEnds, (b, kvh, t0, rows, keys) -> {
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
        NDArray dOut = JniUtils.getGradient(pt(out));
        if (dOut == null) {
            return;
        }
        Dims d = dims;
        NDArray dq = manager.create(q.getShape(), DataType.FLOAT32);
        NDArray dk = manager.zeros(k.getShape(), DataType.FLOAT32);
        NDArray dv = manager.zeros(v.getShape(), DataType.FLOAT32);
        FloatBuffer douts = floats(dOut);
        FloatBuffer outs = floats(out);
        FloatBuffer ps = floats(probs);
        FloatBuffer dps = floats(tape.workspace(SCORES, probs.getShape()));
        FloatBuffer rows = floats(tape.workspace(ROWS, d.grouped(d.headDim)));
        FloatBuffer dqs = floats(dq);
        FloatBuffer dks = floats(dk);
        FloatBuffer dvs = floats(dv);
        // all of a block's backward while its rows are in cache
        eachBlock((b, kvh, t0, count, keys) -> {
            int scores = d.score(b, kvh, t0);
            int grouped = d.query(b, kvh, t0);
            float[] deltas = gatherOutputGradient(d, b, kvh, t0, count, douts, outs, rows);
            // dV += P^T dO
            OpenBlas.gemm(true, false, keys, d.headDim, count, 1f, from(ps, scores), d.keys, from(rows, grouped),
                    d.headDim, 1f, from(dvs, d.key(b, kvh)), d.headDim);
            // dP = dO V^T
            OpenBlas.gemm(false, true, count, keys, d.headDim, 1f, from(rows, grouped), d.headDim,
                    from(vs, d.key(b, kvh)), d.headDim, 0f, from(dps, scores), d.keys);
            // dS = P ∘ (dP - rowsum(dO ∘ O)), into P's memory (P is read no more)
            for (int r = 0; r < count; r++) {
                float delta = deltas[r];
                int at = scores + r * d.keys;
                for (int j = at; j < at + keys; j++) {
                    ps.put(j, ps.get(j) * (dps.get(j) - delta));
                }
            }
            // dQ = scale dS K, over dO's rows, then to [B,H,T,D]
            OpenBlas.gemm(false, false, count, d.headDim, keys, d.scale, from(ps, scores), d.keys,
                    from(ks, d.key(b, kvh)), d.headDim, 0f, from(rows, grouped), d.headDim);
            scatterQueryGradient(d, b, kvh, t0, count, rows, dqs);
            // dK += scale dS^T Q
            OpenBlas.gemm(true, false, keys, d.headDim, count, d.scale, from(ps, scores), d.keys,
                    from(qs, grouped), d.headDim, 1f, from(dks, d.key(b, kvh)), d.headDim);
        });
        dOut.close();
        probs.close();
        JniUtils.backward(pt(q), pt(dq), true, false);
        JniUtils.backward(pt(k), pt(dk), true, false);
        JniUtils.backward(pt(v), pt(dv), true, false);
        dq.close();
        dk.close();
        dv.close();
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

    /** Copies a block's rows of {@code dQ} from the grouped layout to {@code [B,H,T,D]}. */
    private static void scatterQueryGradient(Dims d, int b, int kvh, int t0, int count, FloatBuffer rows,
            FloatBuffer dqs) {
        float[] row = new float[d.headDim];
        int g = d.group();
        for (int r = 0; r < count; r++) {
            rows.get(d.query(b, kvh, t0) + r * d.headDim, row);
            dqs.put(((b * d.heads + kvh * g + r % g) * d.queries + t0 + r / g) * d.headDim, row);
        }
    }
}
