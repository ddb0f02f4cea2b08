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
 * OpenBLAS GEMVs, one pair per query head. The math is {@link DecoderLayer}'s: RMSNorm or LayerNorm,
 * rotate-half rotary embedding, grouped-query attention (query head {@code j} reads key/value head
 * {@code j / (H / KVH)}), the sliding window of {@link AttentionMasks}.
 *
 * <p>Used by {@link ScriptedLayers} for decode steps with one row, one new token and nothing masked but the
 * sliding window, when the model has no unmerged adapter and its activation is silu, gelu (tanh approximation)
 * or relu. Each step allocates its own scratch buffers, so concurrent generations do not interfere.
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
    private final List<NDArray> matrices = new ArrayList<>();
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int qkvRows;
    private final int attnSize;
    private final int inter;
    private final int upRows;
    private final float eps;
    private final float scale;

    private HostDecoder(ModelConfig config, DecoderSpec spec, Activation activation, Set<String> layerWeights,
            Function<String, NDArray> weights, NDArray head) {
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
    }

    /**
     * Builds the path for a model, or returns null when its activation is not one this path computes.
     *
     * @param config the model's config
     * @param spec its skeleton
     * @param layerWeights the per-layer parameter names the scripted layers use (relative to the layer)
     * @param weights parameter arrays by full name (packed names included), float32, contiguous
     * @param head the output projection {@code [V, C]}
     * @return the decoder, or null
     */
    static HostDecoder create(ModelConfig config, DecoderSpec spec, Set<String> layerWeights,
            Function<String, NDArray> weights, NDArray head) {
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
        return new HostDecoder(config, spec, activation, layerWeights, weights, head);
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

    // a float view of a contiguous float32 tensor's own memory (DJL hands out a copy for other layouts)
    private static FloatBuffer view(NDArray array) {
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

    private static void pause(long millis) {
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
        int past = ctx.past;
        FloatBuffer qkv = direct(qkvRows);
        FloatBuffer attn = direct(attnSize);
        FloatBuffer in = direct(Math.max(hidden, inter));
        FloatBuffer up = direct(upRows);
        FloatBuffer out = direct(hidden);
        FloatBuffer scores = direct(past + 1);
        float[] qk = new float[attnSize + kvHeads * headDim];
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            norm(h, l.norm1(), l.norm1Bias(), in);
            OpenBlas.gemv(l.qkv(), qkvRows, hidden, in, qkv);
            addBias(qkv, l.qkvBias(), qkvRows);
            attention(ctx.cache, i, qkv, qk, cos, sin, past, scores, attn);
            OpenBlas.gemv(l.o(), hidden, attnSize, attn, out);
            residual(h, out, l.oBias());
            norm(h, l.norm2(), l.norm2Bias(), in);
            OpenBlas.gemv(l.up(), upRows, hidden, in, up);
            activate(up, l.upBias(), in);
            OpenBlas.gemv(l.down(), hidden, inter, in, out);
            residual(h, out, l.downBias());
        }
        return x.getManager().create(h, new Shape(1, 1, hidden));
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
        int vocab = head.capacity() / hidden;
        ByteBuffer out = bytes(vocab);
        OpenBlas.gemv(head, vocab, hidden, in, out.asFloatBuffer());
        long[] shape = normed.getShape().getShape().clone();
        shape[shape.length - 1] = vocab;
        return normed.getManager().create(out, new Shape(shape), DataType.FLOAT32);
    }

    /**
     * Rotary embedding of the new query and key, the cache write at slot {@code past}, and attention over the
     * visible slots, into {@code attn [H D]}.
     */
    private void attention(KvCache cache, int layer, FloatBuffer qkv, float[] qk, float[] cos, float[] sin, int past,
            FloatBuffer scores, FloatBuffer attn) {
        int d = headDim;
        qkv.get(0, qk);
        if (rotary) {
            for (int head = 0; head < heads + kvHeads; head++) {
                rotate(qk, head * d, cos, sin);
            }
        }
        NDArray keys = cache.keys(layer);
        NDArray values = cache.values(layer);
        int capacity = (int) keys.getShape().get(2);
        FloatBuffer kc = view(keys);
        FloatBuffer vc = view(values);
        for (int g = 0; g < kvHeads; g++) {
            kc.put((g * capacity + past) * d, qk, attnSize + g * d, d);
            vc.put((g * capacity + past) * d, qkv, attnSize + (kvHeads + g) * d, d);
        }
        qkv.put(0, qk, 0, attnSize);
        int window = config.windowOf(layer);
        int first = window > 0 ? Math.max(0, past - window + 1) : 0;
        int n = past + 1 - first;
        int group = heads / kvHeads;
        for (int head = 0; head < heads; head++) {
            int cached = ((head / group) * capacity + first) * d;
            FloatBuffer s = scores.slice(0, n);
            OpenBlas.gemv(kc.slice(cached, n * d), n, d, false, scale, qkv.slice(head * d, d), s);
            softmax(s, n);
            OpenBlas.gemv(vc.slice(cached, n * d), n, d, true, 1f, s, attn.slice(head * d, d));
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
}
