package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.bytedeco.javacpp.Pointer;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.tensor.TorchOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch-1 decode steps of a float32 model on the CPU, on OpenBLAS: one token streams every weight once, so the
 * GEMV kernel's bandwidth decides the speed, and OpenBLAS's reached 40-60 GB/s on a 2-core AMD EPYC where
 * oneDNN's inner product reached 27-43 (see {@link OpenBlas}). The weights and the KV cache are read and written in
 * place (the tensors' own memory, no copies). The one token's residual stream, norms, biases, activation, rotary
 * embedding and softmax are a few thousand floats and run in Java; the attention products over the cache are
 * OpenBLAS GEMVs, one pair per query head (in blocks that each stay on the calling thread). The math is
 * {@link DecoderLayer}'s: RMSNorm or LayerNorm, rotate-half rotary embedding, grouped-query attention (query head
 * {@code j} reads key/value head {@code j / (H / KVH)}), the sliding window of {@link AttentionMasks}.
 *
 * <p>Two entries: {@link #step} runs the layers for {@link ScriptedLayers} (decode steps with one row, one new
 * token and nothing masked but the sliding window), and {@link #decode} runs a whole decode step from the token id
 * to the logits (embedding row, layers, final norm, output projection) with no tensor op at all. Used when the
 * model has no unmerged adapter and its activation is silu, gelu (tanh approximation) or relu. Each call
 * allocates its own scratch memory, so concurrent generations do not interfere.
 */
final class HostDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(HostDecoder.class);

    private enum Activation { SILU, GELU_TANH, RELU }

    /** One layer's parameters as float views of their own memory; biases and LayerNorm shifts may be null. */
    private record Layer(FloatBuffer norm1, FloatBuffer norm1Bias, FloatBuffer qkv, FloatBuffer qkvBias,
            FloatBuffer o, FloatBuffer oBias, FloatBuffer norm2, FloatBuffer norm2Bias, FloatBuffer up,
            FloatBuffer upBias, FloatBuffer down, FloatBuffer downBias) { }

    private final ModelConfig config;
    private final boolean rotary;
    private final boolean gated;
    private final boolean layerNorm;
    private final Activation activation;
    private final Layer[] layers;
    private final FloatBuffer head;
    private final int vocab;
    private final FloatBuffer embedding;
    private final int embeddingRows;
    private final FloatBuffer positionTable;
    private final FloatBuffer finalNorm;
    private final FloatBuffer finalNormBias;
    private final RotaryEmbedding rope;
    private final List<NDArray> matrices = new ArrayList<>();
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int qkvRows;
    private final int attnSize;
    private final int inter;
    private final int upRows;
    private final int group;
    private final int keysPerCall;
    private final float eps;
    private final float scale;

    private HostDecoder(ModelConfig config, DecoderSpec spec, Activation activation, Set<String> layerWeights,
            Function<String, NDArray> weights, NDArray head, RotaryEmbedding rope) {
        this.config = config;
        this.activation = activation;
        this.rotary = spec.positions() == DecoderSpec.Positions.ROTARY;
        this.gated = spec.mlp() == DecoderSpec.Mlp.GATED;
        this.layerNorm = spec.norm() == DecoderSpec.Norm.LAYER;
        this.hidden = config.hiddenSize();
        this.heads = config.numHeads();
        this.kvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        this.attnSize = heads * headDim;
        this.qkvRows = attnSize + 2 * kvHeads * headDim;
        this.inter = config.intermediateSize();
        this.upRows = gated ? 2 * inter : inter;
        this.group = heads / kvHeads;
        this.keysPerCall = Math.max(1, OpenBlas.SINGLE_THREAD_GEMV_ELEMENTS / headDim);
        this.eps = (float) config.normEps();
        this.scale = (float) (1 / Math.sqrt(headDim));
        String upName = gated ? PackedWeights.GATE_UP : "mlp.up_proj";
        layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            Function<String, FloatBuffer> opt = n -> layerWeights.contains(n) ? view(weights.apply(p + n)) : null;
            Function<String, FloatBuffer> matrix = n -> {
                NDArray w = weights.apply(p + n);
                matrices.add(w);
                return view(w);
            };
            layers[i] = new Layer(opt.apply("input_layernorm.weight"), opt.apply("input_layernorm.bias"),
                    matrix.apply(PackedWeights.QKV + ".weight"), opt.apply(PackedWeights.QKV + ".bias"),
                    matrix.apply("self_attn.o_proj.weight"), opt.apply("self_attn.o_proj.bias"),
                    opt.apply("post_attention_layernorm.weight"), opt.apply("post_attention_layernorm.bias"),
                    matrix.apply(upName + ".weight"), opt.apply(upName + ".bias"),
                    matrix.apply("mlp.down_proj.weight"), opt.apply("mlp.down_proj.bias"));
        }
        this.head = view(head);
        this.vocab = (int) head.getShape().get(0);
        NDArray table = weights.apply("model.embed_tokens.weight");
        this.embedding = view(table);
        this.embeddingRows = (int) table.getShape().get(0);
        this.positionTable = spec.positions() == DecoderSpec.Positions.LEARNED
                ? view(weights.apply("model.embed_positions.weight"))
                : null;
        this.finalNorm = view(weights.apply("model.norm.weight"));
        this.finalNormBias = layerNorm ? view(weights.apply("model.norm.bias")) : null;
        this.rope = rotary ? rope : null;
    }

    /**
     * Builds the path for a model, or returns null when its activation is not one this path computes.
     *
     * @param config the model's config
     * @param spec its skeleton
     * @param layerWeights the per-layer parameter names the scripted layers use (relative to the layer)
     * @param weights parameter arrays by full name (packed names included, the embedding tables and the final
     *     norm too), float32, contiguous
     * @param head the output projection {@code [V, C]} (the embedding table when tied)
     * @param rope the model's rotary embedding, or null without one
     * @return the decoder, or null
     */
    static HostDecoder create(ModelConfig config, DecoderSpec spec, Set<String> layerWeights,
            Function<String, NDArray> weights, NDArray head, RotaryEmbedding rope) {
        Activation activation = switch (config.hiddenAct()) {
            case "silu", "swish" -> Activation.SILU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "relu" -> Activation.RELU;
            default -> null;
        };
        if (activation == null) {
            LOG.debug("OpenBLAS decode path off: activation {} is computed in libtorch only", config.hiddenAct());
            return null;
        }
        return new HostDecoder(config, spec, activation, layerWeights, weights, head, rope);
    }

    /**
     * Whether this path can run a step: one row, one new token, a cache, and no mask but the sliding window.
     *
     * @param x the step's input {@code [B,T,C]}
     * @param ctx the step's context
     * @return true when {@link #step} applies
     */
    static boolean handles(NDArray x, ForwardContext ctx) {
        return ctx.inference && ctx.cache != null && ctx.rowPositions == null && ctx.fullMask == null
                && x.getShape().get(0) == 1 && x.getShape().get(1) == 1;
    }

    /**
     * A float view of a contiguous float32 tensor's own memory (DJL hands out a copy for other layouts).
     *
     * @param array the tensor
     * @return its values, read and written in place
     */
    static FloatBuffer view(NDArray array) {
        if (array.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("the OpenBLAS decode path needs float32 tensors, found "
                    + array.getDataType());
        }
        ByteBuffer bytes = JniUtils.getByteBuffer((PtNDArray) array, true).order(ByteOrder.nativeOrder());
        if (!bytes.isDirect() || bytes.capacity() != array.size() * Float.BYTES) {
            throw new IllegalStateException("cannot read a tensor of shape " + array.getShape() + " in place");
        }
        return bytes.asFloatBuffer();
    }

    /**
     * Times one token's projections on OpenBLAS and on oneDNN, six times each after a warm-up, alternating (the
     * best of each counts; about 0.3 s once per model). oneDNN runs them all in one libtorch call, as the scripted
     * layers do.
     *
     * @param ops torch's ops (oneDNN's inner product)
     * @param manager where the temporary inputs live
     * @return whether OpenBLAS is the faster
     */
    boolean fasterThanOneDnn(TorchOps ops, NDManager manager) {
        long blas = Long.MAX_VALUE;
        long dnn = Long.MAX_VALUE;
        FloatBuffer x = direct(Math.max(Math.max(hidden, inter), attnSize));
        FloatBuffer y = direct(Math.max(upRows, qkvRows));
        try (NDManager m = manager.newSubManager()) {
            NDArray[] ws = matrices.toArray(new NDArray[0]);
            NDArray[] xs = new NDArray[ws.length];
            for (int i = 0; i < ws.length; i++) {
                xs[i] = m.zeros(new Shape(1, 1, ws[i].getShape().get(1)));
            }
            FloatBuffer[] views = matrixViews();
            // Alternating, each OpenBLAS pass after a pause: libtorch's OpenMP workers spin for a few milliseconds
            // after each parallel region (the prefill's, oneDNN's pass) and would take a core from OpenBLAS's
            // threads, which decode steps on OpenBLAS never have to share. The best of six passes each: a
            // compiler or GC thread of the JVM can take a core for tens of milliseconds at the start.
            for (int rep = 0; rep < 7; rep++) {
                pause(25);
                long t0 = System.nanoTime();
                for (int i = 0; i < ws.length; i++) {
                    OpenBlas.gemv(views[i], (int) ws[i].getShape().get(0), (int) ws[i].getShape().get(1), x, y);
                }
                long t1 = System.nanoTime();
                ops.linearEach(xs, ws).close();
                long t2 = System.nanoTime();
                if (rep > 0) {
                    blas = Math.min(blas, t1 - t0);
                    dnn = Math.min(dnn, t2 - t1);
                }
            }
        }
        boolean faster = blas < dnn;
        LOG.info("decode projections of one token: OpenBLAS {} us, oneDNN {} us -> {}", blas / 1000, dnn / 1000,
                faster ? "OpenBLAS" : "oneDNN");
        return faster;
    }

    /**
     * Sleeps, keeping the thread's interrupt status (kernel timings pause so that libtorch's OpenMP workers stop
     * spinning before OpenBLAS's threads are timed).
     *
     * @param millis how long
     */
    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // the layers' matrices in the order they were added to matrices
    private FloatBuffer[] matrixViews() {
        List<FloatBuffer> views = new ArrayList<>();
        for (Layer l : layers) {
            views.addAll(List.of(l.qkv(), l.o(), l.up(), l.down()));
        }
        return views.toArray(new FloatBuffer[0]);
    }

    /**
     * Runs every layer for one row and one new token, writing its keys and values into the cache at
     * {@code ctx.past}.
     *
     * @param x {@code [1,1,C]} embeddings (positions added)
     * @param ctx the step's context (cache, rotary tables)
     * @return {@code [1,1,C]} the last layer's output, before the final norm, in x's manager
     */
    NDArray step(NDArray x, ForwardContext ctx) {
        float[] h = x.toFloatArray();
        float[] cos = rotary ? ctx.cos.toFloatArray() : null;
        float[] sin = rotary ? ctx.sin.toFloatArray() : null;
        try (Scratch s = new Scratch(ctx.past + 1, 0)) {
            layers(h, ctx.cache, ctx.past, cos, sin, s);
        }
        return x.getManager().create(h, new Shape(1, 1, hidden));
    }

    /**
     * A whole decode step of one sequence: the token's embedding row (plus its learned position's row), every
     * layer (its keys and values written into the cache at slot {@code position}, attending to slots
     * {@code [0, position]} within each layer's sliding window), the final norm and the output projection.
     *
     * @param token the new token
     * @param position its position, also its cache slot: the slots before it hold the sequence's earlier tokens
     * @param cache the sequence's cache, in row 0 (a batch-1 cache, or the first row of a larger one)
     * @return {@code [V]} the token's logits
     * @throws IllegalArgumentException when the token is outside the embedding table or the position outside the
     *     learned position table
     * @throws IllegalStateException when the cache has no slot {@code position}
     */
    float[] decode(int token, int position, KvCache cache) {
        if (position >= cache.capacity()) {
            throw new IllegalStateException("KV cache full: position " + position + " exceeds its capacity "
                    + cache.capacity());
        }
        float[] h = embed(token, position);
        float[][] cosSin = rotary ? rope.cosSin(position) : new float[2][];
        try (Scratch s = new Scratch(position + 1, vocab)) {
            layers(h, cache, position, cosSin[0], cosSin[1], s);
            norm(h, finalNorm, finalNormBias, s.in);
            OpenBlas.gemv(head, vocab, hidden, s.in, s.logits);
            float[] logits = new float[vocab];
            s.logits.get(0, logits);
            return logits;
        }
    }

    // the token's embedding row, plus its position's row for learned positions
    private float[] embed(int token, int position) {
        if (token < 0 || token >= embeddingRows) {
            throw new IllegalArgumentException("token id " + token + " is outside the embedding table [0, "
                    + embeddingRows + ")");
        }
        float[] h = new float[hidden];
        embedding.get(token * hidden, h);
        if (positionTable != null) {
            if (position >= config.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("position " + position + " exceeds max_position_embeddings ("
                        + config.maxPositionEmbeddings() + ") of this model");
            }
            for (int j = 0; j < hidden; j++) {
                h[j] += positionTable.get(position * hidden + j);
            }
        }
        return h;
    }

    /** Every layer on the residual stream {@code h}; the new token's keys and values go to cache slot {@code slot}. */
    private void layers(float[] h, KvCache cache, int slot, float[] cos, float[] sin, Scratch s) {
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            norm(h, l.norm1(), l.norm1Bias(), s.in);
            OpenBlas.gemv(l.qkv(), qkvRows, hidden, s.in, s.qkv);
            addBias(s.qkv, l.qkvBias(), qkvRows);
            attention(cache, i, cos, sin, slot, s);
            OpenBlas.gemv(l.o(), hidden, attnSize, s.attn, s.out);
            residual(h, s.out, l.oBias());
            norm(h, l.norm2(), l.norm2Bias(), s.in);
            OpenBlas.gemv(l.up(), upRows, hidden, s.in, s.up);
            activate(s.up, l.upBias(), s.in);
            OpenBlas.gemv(l.down(), hidden, inter, s.in, s.out);
            residual(h, s.out, l.downBias());
        }
    }

    /**
     * The output projection of one row.
     *
     * @param normed {@code [..., C]} with one row: the final-normed hidden state
     * @return {@code [..., V]} float32 logits in normed's manager
     */
    NDArray logits(NDArray normed) {
        FloatBuffer in = direct(hidden);
        in.put(0, normed.toFloatArray());
        ByteBuffer out = bytes(vocab);
        OpenBlas.gemv(head, vocab, hidden, in, out.asFloatBuffer());
        long[] shape = normed.getShape().getShape().clone();
        shape[shape.length - 1] = vocab;
        return normed.getManager().create(out, new Shape(shape), DataType.FLOAT32);
    }

    /**
     * Rotary embedding of the new query and key, the cache write at {@code slot}, and attention over the
     * visible slots, into {@code s.attn [H D]}.
     */
    private void attention(KvCache cache, int layer, float[] cos, float[] sin, int slot, Scratch s) {
        int d = headDim;
        float[] qk = s.qk;
        s.qkv.get(0, qk);
        if (rotary) {
            for (int head = 0; head < heads + kvHeads; head++) {
                rotate(qk, head * d, cos, sin);
            }
        }
        int capacity = cache.capacity();
        FloatBuffer kc = cache.keysInPlace(layer);
        FloatBuffer vc = cache.valuesInPlace(layer);
        for (int g = 0; g < kvHeads; g++) {
            kc.put((g * capacity + slot) * d, qk, attnSize + g * d, d);
            vc.put((g * capacity + slot) * d, s.qkv, attnSize + (kvHeads + g) * d, d);
        }
        s.qkv.put(0, qk, 0, attnSize);
        int window = config.windowOf(layer);
        int first = window > 0 ? Math.max(0, slot - window + 1) : 0;
        int n = slot + 1 - first;
        for (int head = 0; head < heads; head++) {
            int cached = ((head / group) * capacity + first) * d;
            attend(head, kc.slice(cached, n * d), vc.slice(cached, n * d), n, s);
        }
    }

    /**
     * One query head over the visible slots of its key/value head: the scores {@code scale K q}, their softmax
     * {@code p}, then {@code V^T p} into the head's output. The products go in blocks of {@code keysPerCall} slots
     * so that each stays on this thread: OpenBLAS splits a larger GEMV over its threads, and for these small
     * products the hand-off costs more than the work (m100's 12 layers of 12 heads at D 64 took 1.1-2.0 ms a token
     * at 160-512 cached slots that way, 0.3-1.0 ms in blocks). One GEMM per key/value head over its group of query
     * heads was slower still below 160 slots (0.4-0.5 ms against 0.2 at 96-128: packing for a 3-row GEMM costs more
     * than it saves).
     */
    private void attend(int head, FloatBuffer keys, FloatBuffer values, int n, Scratch s) {
        int d = headDim;
        FloatBuffer query = s.qkv.slice(head * d, d);
        for (int from = 0; from < n; from += keysPerCall) {
            int rows = Math.min(keysPerCall, n - from);
            OpenBlas.gemv(keys.slice(from * d, rows * d), rows, d, false, scale, query, s.scores.slice(from, rows));
        }
        softmax(s.scores, n);
        FloatBuffer out = s.attn.slice(head * d, d);
        for (int from = 0; from < n; from += keysPerCall) {
            int rows = Math.min(keysPerCall, n - from);
            OpenBlas.gemv(values.slice(from * d, rows * d), rows, d, true, 1f, s.scores.slice(from, rows), from > 0,
                    out);
        }
    }

    /** HF's rotate-half: {@code x cos + [-x2, x1] sin} on one head of {@code d} values at {@code off}. */
    private void rotate(float[] v, int off, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int j = 0; j < half; j++) {
            float a = v[off + j];
            float b = v[off + half + j];
            v[off + j] = a * cos[j] - b * sin[j];
            v[off + half + j] = b * cos[half + j] + a * sin[half + j];
        }
    }

    /** Softmax in place of the first {@code n} scores. */
    private static void softmax(FloatBuffer s, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, s.get(j));
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(s.get(j) - max);
            s.put(j, e);
            sum += e;
        }
        float inv = (float) (1 / sum);
        for (int j = 0; j < n; j++) {
            s.put(j, s.get(j) * inv);
        }
    }

    /** RMSNorm ({@code LlamaRMSNorm}) or LayerNorm of the residual stream into {@code out}. */
    private void norm(float[] h, FloatBuffer weight, FloatBuffer bias, FloatBuffer out) {
        int n = hidden;
        if (layerNorm) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += h[j];
            }
            float mean = (float) (sum / n);
            double var = 0;
            for (int j = 0; j < n; j++) {
                double dlt = h[j] - mean;
                var += dlt * dlt;
            }
            float inv = (float) (1 / Math.sqrt(var / n + eps));
            for (int j = 0; j < n; j++) {
                out.put(j, (h[j] - mean) * inv * weight.get(j) + bias.get(j));
            }
            return;
        }
        double squares = 0;
        for (int j = 0; j < n; j++) {
            squares += (double) h[j] * h[j];
        }
        float inv = (float) (1 / Math.sqrt((float) (squares / n) + eps));
        for (int j = 0; j < n; j++) {
            out.put(j, weight.get(j) * (h[j] * inv));
        }
    }

    /** The MLP's activation: {@code act(gate) * up} (gated, {@code y} holds gate then up) or {@code act(up)}. */
    private void activate(FloatBuffer y, FloatBuffer bias, FloatBuffer out) {
        addBias(y, bias, upRows);
        for (int j = 0; j < inter; j++) {
            float a = apply(y.get(j));
            out.put(j, gated ? a * y.get(inter + j) : a);
        }
    }

    private float apply(float v) {
        return switch (activation) {
            case SILU -> (float) (v / (1 + Math.exp(-v)));
            case GELU_TANH -> (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
            case RELU -> Math.max(v, 0f);
        };
    }

    private static void addBias(FloatBuffer y, FloatBuffer bias, int n) {
        if (bias != null) {
            for (int j = 0; j < n; j++) {
                y.put(j, y.get(j) + bias.get(j));
            }
        }
    }

    private void residual(float[] h, FloatBuffer y, FloatBuffer bias) {
        for (int j = 0; j < hidden; j++) {
            h[j] += bias == null ? y.get(j) : y.get(j) + bias.get(j);
        }
    }

    private static ByteBuffer bytes(int floats) {
        return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder());
    }

    private static FloatBuffer direct(int floats) {
        return bytes(floats).asFloatBuffer();
    }

    // floats rounded up to a whole number of cache lines (16 floats, 64 bytes)
    private static int aligned(int floats) {
        return (floats + 15) / 16 * 16;
    }

    /**
     * One call's working memory, in one native block that {@link #close} frees (not zeroed: every buffer is
     * written before it is read), each buffer starting on a cache line.
     */
    private final class Scratch implements AutoCloseable {
        final FloatBuffer qkv;
        final FloatBuffer attn;
        final FloatBuffer in;
        final FloatBuffer up;
        final FloatBuffer out;
        final FloatBuffer scores;
        final FloatBuffer logits;
        final float[] qk = new float[attnSize + kvHeads * headDim];
        private final Pointer block;
        private final FloatBuffer all;
        private int used;

        /**
         * @param keys the most cache slots one query head attends to
         * @param logits room for the logits (0 for none)
         */
        Scratch(int keys, int logits) {
            int[] sizes = {qkvRows, attnSize, Math.max(hidden, inter), upRows, hidden, keys, logits};
            long floats = 16;
            for (int size : sizes) {
                floats += aligned(size);
            }
            block = Pointer.malloc(floats * Float.BYTES);
            if (block == null || block.isNull()) {
                throw new OutOfMemoryError("cannot allocate " + floats * Float.BYTES + " bytes for a decode step");
            }
            block.capacity(floats * Float.BYTES);
            all = block.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            used = (int) ((64 - block.address() % 64) % 64 / Float.BYTES);
            qkv = next(sizes[0]);
            attn = next(sizes[1]);
            in = next(sizes[2]);
            up = next(sizes[3]);
            out = next(sizes[4]);
            scores = next(sizes[5]);
            this.logits = next(sizes[6]);
        }

        private FloatBuffer next(int floats) {
            FloatBuffer b = all.slice(used, floats);
            used += aligned(floats);
            return b;
        }

        @Override
        public void close() {
            Pointer.free(block);
        }
    }
}
