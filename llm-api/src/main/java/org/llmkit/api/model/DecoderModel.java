package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.llmkit.api.LoraConfig;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Precision;
import org.llmkit.api.tensor.TorchOps;

/**
 * The one decoder skeleton every architecture shares, as a DJL block:
 * {@code embed (+ learned positions) -> N x DecoderLayer -> norm -> lm_head}.
 *
 * <p>Architectures differ only through {@link DecoderSpec} (norm, positions, MLP) and
 * {@link ModelConfig} (sizes, biases, window, rope). Parameters are named like transformers' Llama
 * ({@link DecoderShapes}); checkpoint layouts map other names onto them.
 *
 * <p>Weights belong to the manager given at construction; per-call arrays belong to the caller's
 * manager (every op here starts from an activation, never from a weight, so results attach to the
 * activation's manager). The model is immutable once loaded and may be shared by threads; per-call
 * state lives in {@link ForwardContext} and {@link KvCache}.
 */
public final class DecoderModel extends AbstractBlock {
    private final ModelConfig config;
    private final DecoderSpec spec;
    private final Kernels kernels;
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Shape> shapes;
    private final Parameter embedTokens;
    private final Parameter embedPositions;
    private final Parameter lmHead;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final Norm finalNorm;
    private final RotaryEmbedding rope;
    private final Constants f32;
    private final LoraAttachment lora;
    private ScriptedLayers scripted;
    /** Owns the row views of fused modules' {@code lora_B} that {@link #scripted} reads. */
    private NDManager scriptViews;
    private DecodeGemv decodeGemv = DecodeGemv.fromSystemProperty();
    private final TrainingKernel training;
    private final PackedWeights packed;

    /**
     * Builds an empty skeleton (parameters declared, no arrays yet).
     *
     * @param config the config
     * @param spec the architecture's variant
     * @param manager owner of constants (weights are attached to it when set)
     * @param precision weight and activation type
     * @param fused use torch's fused attention and RMSNorm kernels (the default) rather than composed DJL ops
     */
    public DecoderModel(ModelConfig config, DecoderSpec spec, NDManager manager, Precision precision, boolean fused) {
        this.config = config;
        this.spec = spec;
        TorchOps ops = TorchOps.load();
        this.kernels = new Kernels(ops, fused || precision == Precision.BF16, new TensorType(precision, ops),
                !manager.getDevice().isGpu());
        this.shapes = DecoderShapes.of(config, spec);
        f32 = new Constants(manager, DataType.FLOAT32);
        rope = spec.positions() == DecoderSpec.Positions.ROTARY ? new RotaryEmbedding(config, manager, kernels.type()) : null;
        embedTokens = declare("model.embed_tokens.weight", Parameter.Type.WEIGHT);
        embedPositions = spec.positions() == DecoderSpec.Positions.LEARNED
                ? declare("model.embed_positions.weight", Parameter.Type.WEIGHT)
                : null;
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(addChildBlock("layer" + i, new DecoderLayer(params, i, config, spec, rope, f32, kernels)));
        }
        finalNorm = addChildBlock("norm", new Norm(params, "model.norm", spec.norm(), config.normEps(), f32, kernels));
        lmHead = config.tieWordEmbeddings() ? null : declare("lm_head.weight", Parameter.Type.WEIGHT);
        packed = new PackedWeights(params, config.numLayers(), spec.mlp() == DecoderSpec.Mlp.GATED);
        training = new TrainingKernel(kernels, () -> layers.get(0).projections(), () -> head().getManager());
        lora = new LoraAttachment(Architectures.of(config.modelType()).layout(), config.modelType(), shapes,
                this::projections);
    }

    private Parameter declare(String name, Parameter.Type type) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(type).build());
        params.put(name, p);
        return p;
    }

    /** @return the config */
    public ModelConfig config() {
        return config;
    }

    /** @return the activation and weight type, with its casts */
    public TensorType tensorType() {
        return kernels.type();
    }

    /** @return whether attention and RMSNorm run torch's fused kernels */
    public boolean fused() {
        return kernels.fused();
    }

    /** Releases the TorchScript modules behind the fused kernels (weights belong to the caller's manager). */
    public synchronized void close() {
        invalidateScript();
        kernels.ops().close();
    }

    // the scripted layers hold the parameter arrays and the adapter layout of the moment they were built
    private synchronized void invalidateScript() {
        if (scripted != null) {
            scripted.close();
            scripted = null;
        }
        if (scriptViews != null) {
            scriptViews.close();
            scriptViews = null;
        }
    }

    private NDArray head() {
        return lmHead != null ? lmHead.getArray() : embedTokens.getArray();
    }

    private synchronized HostDecoder hostDecoder() {
        return scripted == null ? null : scripted.hostDecoder();
    }

    /**
     * Chooses the kernel of batch-1 decode steps' projections (float32 models on the CPU). The default comes
     * from the {@value DecodeGemv#PROPERTY} system property ({@link DecodeGemv#AUTO} when unset).
     *
     * @param choice the kernel, or {@link DecodeGemv#AUTO} to time both at the next decode step
     */
    public synchronized void decodeGemv(DecodeGemv choice) {
        this.decodeGemv = java.util.Objects.requireNonNull(choice, "choice");
        invalidateScript();
    }

    /**
     * Whether batch-1 decode steps run their projections on OpenBLAS ({@link DecodeGemv}); decided at the first
     * such step after loading, after {@link #decodeGemv} and after weights or adapters change.
     *
     * @return true once a decode step chose OpenBLAS; false before the first one or when it chose oneDNN
     */
    public boolean decodesOnOpenBlas() {
        return hostDecoder() != null;
    }

    /**
     * Chooses the kernel of float32 training forwards' and backwards' linear layers on the CPU. The default comes
     * from the {@value TrainingGemm#PROPERTY} system property ({@link TrainingGemm#AUTO} when unset).
     *
     * @param choice the kernel, or {@link TrainingGemm#AUTO} to time both at the next training forward
     */
    public void trainingGemm(TrainingGemm choice) {
        training.choose(choice);
    }

    /**
     * Whether training steps ({@link Losses#causalLmBackward}) run the linear layers on OpenBLAS
     * ({@link TrainingGemm}); decided at the first such step.
     *
     * @return true once a training step chose OpenBLAS; false before the first one or when it chose libtorch
     */
    public boolean trainsOnOpenBlas() {
        return training.chosenOpenBlas();
    }

    /**
     * Whether training forwards of {@code rows} tokens run their linear layers on OpenBLAS ({@link TrainingGemm}),
     * deciding it now when no training step has (under {@link TrainingGemm#AUTO}: when the process has {@link
     * WorkerThreads#TRAINING_SETTINGS} and libtorch does not run the first layer's GEMMs in under four fifths of
     * OpenBLAS's time, timed once). False for a model that is not float32 on the CPU.
     *
     * @param rows tokens in a training forward's batch (the timing's rows, at most 512 of them)
     * @return true when OpenBLAS is chosen
     */
    public boolean trainsOnOpenBlas(int rows) {
        return training.openBlas(rows);
    }

    /**
     * Opens BF16 autocast for this model's training forwards ({@link Autocast}): until it is closed, the linear
     * layers of training forwards on the OpenBLAS tape multiply in bfloat16, as under {@code
     * torch.autocast("cpu", torch.bfloat16)}, and everything else stays float32.
     *
     * @param rows tokens in a training forward's batch, for the kernel choice ({@link #trainsOnOpenBlas(int)})
     * @return the open autocast; close it to return to float32
     * @throws IllegalStateException when training forwards of this model do not run on OpenBLAS (not float32 on the
     *     CPU, {@link TrainingGemm#LIBTORCH}, or {@link TrainingGemm#AUTO} choosing libtorch), or an autocast is open
     *     already
     */
    public Autocast autocastBf16(int rows) {
        return training.openAutocast(rows);
    }

    /** @return whether a BF16 autocast of this model is open ({@link #autocastBf16}) */
    public boolean autocastOpen() {
        return training.autocastOpen();
    }

    /** The tape of a training forward, or null when it runs in autograd ({@link TrainingKernel#tape}). */
    BlasTape trainingTape(NDManager m, int rows) {
        return training.tape(m, rows);
    }

    /**
     * Runs a whole batch-1 decode step on the host, from the new token's id to its logits, when this model's decode
     * steps run on OpenBLAS ({@link DecodeGemv}): the embedding rows, every layer, the final norm and the output
     * projection in Java and OpenBLAS, without a tensor op. The token's keys and values go to cache slot
     * {@code position} of row 0 and it attends to slots {@code [0, position]} (within each layer's sliding window),
     * as {@link #hiddenFromEmbeddings} followed by {@link #logits} would compute it for that row.
     *
     * <p>The first call after loading, after {@link #decodeGemv} and after weights or adapters change makes the
     * kernel choice of {@link #decodesOnOpenBlas} (timing both kernels for {@link DecodeGemv#AUTO}).
     *
     * @param manager where that choice's temporary arrays live
     * @param token the new token's id
     * @param position its position in the sequence, which is also its cache slot (the sequence starts at slot 0)
     * @param cache the sequence's cache, in row 0: a batch-1 cache or the first row of a larger one
     * @return {@code [V]} float32 logits, or null when the host path does not apply (autograd recording, composed
     *     kernels, not float32 on the CPU, an unmerged LoRA adapter, oneDNN chosen, an activation the path does
     *     not compute, OpenBLAS missing); then use the tensor path
     * @throws IllegalArgumentException when the token or position is outside the model's tables
     * @throws IllegalStateException when the cache has no slot {@code position}
     */
    public float[] decodeOnHost(NDManager manager, int token, int position, KvCache cache) {
        if (!kernels.fused() || JniUtils.isGradMode() || !lora.alikeInEveryLayer()) {
            return null;
        }
        HostDecoder host = scripted().host(manager);
        return host == null ? null : host.decode(token, position, cache);
    }

    private synchronized ScriptedLayers scripted() {
        if (scripted == null) {
            // the OpenBLAS decode path: float32 weights on the CPU, no unmerged adapter
            boolean host = kernels.cpu() && kernels.type().precision() == Precision.FP32 && lora.config().isEmpty();
            // each adapted projection's own A and B rows (a fused module's B split by views, kept with the script)
            scriptViews = head().getManager().newSubManager();
            Map<String, NDArray> adapters = lora.perProjection(scriptViews);
            scripted = new ScriptedLayers(config, spec, kernels.type().precision(), kernels.oneDnn(),
                    lora.adaptedInLayer0(), lora.config().map(LoraConfig::scale).orElse(0.0),
                    name -> adapters.containsKey(name) ? adapters.get(name)
                            : packed.get(name) != null ? packed.get(name) : params.get(name).getArray(),
                    host ? new ScriptedLayers.HostDecoderFactory(spec, decodeGemv, kernels.ops(), head(), rope) : null);
        }
        return scripted;
    }

    /** @return skeleton name to expected shape of every base parameter, in checkpoint order */
    public Map<String, Shape> expectedShapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** @return skeleton name to parameter, including LoRA parameters when attached */
    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(params);
    }

    /** @return every linear projection, in layer order, for adapters */
    List<Projection> projections() {
        List<Projection> all = new ArrayList<>();
        layers.forEach(l -> all.addAll(l.projections()));
        return all;
    }

    /**
     * Installs a weight after checking its shape against the config.
     *
     * @param name skeleton name
     * @param array the values (ownership moves to the parameter)
     * @throws IllegalArgumentException naming the tensor, the expected and the found shape
     */
    public void setWeight(String name, NDArray array) {
        invalidateScript();
        Parameter p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("the model has no parameter '" + name + "'");
        }
        Shape expected = shapes.containsKey(name) ? shapes.get(name) : lora.shapes().get(name);
        if (expected != null && !expected.equals(array.getShape())) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + array.getShape()
                    + " but the config implies " + expected + " (hidden_size=" + config.hiddenSize()
                    + ", heads=" + config.numHeads() + ", kv_heads=" + config.numKvHeads() + ", head_dim="
                    + config.headDim() + ", intermediate_size=" + config.intermediateSize() + ", vocab_size="
                    + config.vocabSize() + ")");
        }
        if (packed.offer(p, array, params)) {
            return;
        }
        if (p.isInitialized()) {
            // DJL's Parameter accepts an array once; swap the native tensor behind the existing one. The copy
            // makes sure the new tensor owns its memory (an array created over a mapped file does not).
            NDArray owned = array.duplicate();
            array.close();
            p.getArray().intern(owned);
        } else {
            p.setArray(array);
        }
        // DJL names a parameter's array after it; TorchScript calls would read a dotted name as a dict key
        p.getArray().setName(null);
    }

    /**
     * Attaches an (uninitialised) LoRA branch to every projection the config targets. Set its arrays with
     * {@link #setWeight} using the names {@link #adapterShapes()} lists.
     *
     * <p>A target matches a projection's skeleton name ({@code q_proj}, {@code model.layers.0.mlp.up_proj}) or,
     * where the architecture's checkpoints name their modules differently, the checkpoint module PEFT would adapt
     * ({@link CheckpointLayout#moduleOf}: GPT-2's {@code c_attn}, {@code c_proj}, {@code c_fc}). A module that fuses
     * several projections (GPT-2's {@code c_attn}: q, k, v) gets one adapter, as PEFT gives it, named after the
     * module: {@code lora_A [r, in]} shared, {@code lora_B [Σ out, r]}.
     *
     * @param config the adapter settings
     * @return the targeted projections' skeleton names
     * @throws IllegalArgumentException when no module matches, listing the module names that exist, or when the
     *     targets name both a projection and the fused module it belongs to
     * @throws IllegalStateException when an adapter is already attached
     */
    public List<String> attachLora(LoraConfig config) {
        List<String> targeted = lora.attach(config, f32.of((float) config.scale()));
        invalidateScript();
        return targeted;
    }

    /** @return the attached adapter's settings, if any */
    public Optional<LoraConfig> lora() {
        return lora.config();
    }

    /** @return adapter parameter name to shape (empty without an adapter) */
    public Map<String, Shape> adapterShapes() {
        return lora.shapes();
    }

    /**
     * Returns the weights as the model computes with them: LoRA branches folded in ({@code W + scale B A})
     * without changing the model. Merged arrays are new; the others are the parameters' own arrays.
     *
     * @return skeleton name to array for every base parameter
     */
    public Map<String, NDArray> effectiveWeights() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        shapes.keySet().forEach(n -> out.put(n, params.get(n).getArray()));
        for (Projection p : projections()) {
            if (p.hasLora()) {
                out.put(p.name() + ".weight", p.mergedWeight());
            }
        }
        return out;
    }

    /**
     * Folds every LoRA branch into its base weight and removes the adapter. Not safe while other threads
     * run the model.
     */
    public void mergeLora() {
        invalidateScript();
        lora.detachMerged().forEach((p, w) -> setWeight(p.name() + ".weight", w));
    }

    /**
     * @return whether the attached adapter has branches named after checkpoint modules other than the skeleton's
     *     projections ({@link #attachLora}: GPT-2's {@code c_attn} and the like)
     */
    public boolean hasModuleAdapters() {
        return lora.moduleAdapters();
    }

    /**
     * Returns the names of base parameters that have no array yet.
     *
     * @return missing names, empty when complete
     */
    public List<String> missingWeights() {
        List<String> missing = new ArrayList<>();
        shapes.keySet().forEach(n -> {
            if (!params.get(n).isInitialized()) {
                missing.add(n);
            }
        });
        lora.shapes().keySet().forEach(n -> {
            if (!params.get(n).isInitialized()) {
                missing.add(n);
            }
        });
        return missing;
    }

    /**
     * Builds the shared per-forward inputs.
     *
     * @param m manager for per-call arrays
     * @param positions [B][T] absolute positions of the new tokens
     * @param keyValid [B][past+T] false for padding slots; null when nothing is padded
     * @param cache the KV cache, or null for a plain full-sequence forward
     * @param past slots already in the cache (0 without a cache)
     * @return the context
     */
    public ForwardContext context(NDManager m, int[][] positions, boolean[][] keyValid, KvCache cache, int past) {
        int b = positions.length;
        int t = positions[0].length;
        NDArray[] enc = positionEncodings(m, positions);
        float lowest = kernels.type().lowest();
        NDArray full = maskOfModelType(AttentionMasks.build(m, b, t, past, keyValid, 0, lowest));
        NDArray sliding = config.slidingWindow() > 0
                ? maskOfModelType(AttentionMasks.build(m, b, t, past, keyValid, config.slidingWindow(), lowest))
                : null;
        return new ForwardContext(enc[0], enc[1], enc[2], full, sliding, cache, past, !JniUtils.isGradMode());
    }

    /**
     * Builds the inputs of a continuous-batching decode step: one new token per row, each row a sequence of its
     * own length whose new token goes to cache slot {@code positions[b]} (its position) and attends to slots
     * {@code [0, positions[b]]} (within the sliding window, if any).
     *
     * @param m manager for per-call arrays
     * @param positions per row, the new token's position (= the number of tokens already cached for that row)
     * @param cache the rows' cache (row {@code b} of the cache is sequence {@code b}); capacity &gt; every position
     * @return the context
     */
    public ForwardContext stepContext(NDManager m, int[] positions, KvCache cache) {
        int b = positions.length;
        int[][] perRow = new int[b][];
        long[] write = new long[b];
        int keys = 0;
        for (int i = 0; i < b; i++) {
            perRow[i] = new int[] {positions[i]};
            write[i] = positions[i];
            keys = Math.max(keys, positions[i] + 1);
        }
        NDArray[] enc = positionEncodings(m, perRow);
        float lowest = kernels.type().lowest();
        NDArray full = maskOfModelType(AttentionMasks.rows(m, positions, keys, 0, lowest));
        NDArray sliding = config.slidingWindow() > 0
                ? maskOfModelType(AttentionMasks.rows(m, positions, keys, config.slidingWindow(), lowest))
                : null;
        return new ForwardContext(enc[0], enc[1], enc[2], full, sliding, cache, -1, !JniUtils.isGradMode(), write,
                m.create(write));
    }

    // {cos, sin, null} for rotary models, {null, null, positions [B,T] int64} for learned positions
    private NDArray[] positionEncodings(NDManager m, int[][] positions) {
        int b = positions.length;
        int t = positions[0].length;
        NDArray cos = null;
        NDArray sin = null;
        NDArray pos = null;
        if (rope != null) {
            NDArray[] cs = rope.cosSin(m, positions, kernels.type());
            cos = cs[0];
            sin = cs[1];
        } else {
            long[] flat = new long[b * t];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    int p = positions[i][j];
                    if (p >= config.maxPositionEmbeddings()) {
                        throw new IllegalArgumentException("position " + p + " exceeds max_position_embeddings ("
                                + config.maxPositionEmbeddings() + ") of this model");
                    }
                    flat[i * t + j] = p;
                }
            }
            pos = m.create(flat, new Shape(b, t));
        }
        return new NDArray[] {cos, sin, pos};
    }

    /**
     * Replaces a context's masks by block-diagonal ones: a query sees only keys of its own document.
     *
     * @param ctx a context from {@link #context} (its positions already restart per document)
     * @param m manager for the masks
     * @param documents {@code [B][past+T]} the document of every key slot
     * @param keyValid {@code [B][past+T]} false for padding; null when nothing is padded
     * @return the context with the new masks
     */
    ForwardContext separateDocuments(ForwardContext ctx, NDManager m, int[][] documents, boolean[][] keyValid) {
        int b = documents.length;
        int t = documents[0].length - ctx.past;
        float lowest = kernels.type().lowest();
        NDArray full = maskOfModelType(AttentionMasks.build(m, b, t, ctx.past, keyValid, documents, 0, lowest));
        NDArray sliding = config.slidingWindow() > 0
                ? maskOfModelType(AttentionMasks.build(m, b, t, ctx.past, keyValid, documents, config.slidingWindow(),
                        lowest))
                : null;
        return ctx.withMasks(full, sliding);
    }

    // fused attention wants the mask in the query's type; the composed path adds it to float32 scores
    private NDArray maskOfModelType(NDArray mask) {
        return mask == null || !kernels.fused() ? mask : kernels.type().cast(mask);
    }

    /**
     * Runs embeddings and all layers.
     *
     * @param ids {@code [B,T]} int64 token ids, owned by the caller's manager
     * @param ctx from {@link #context}
     * @return final-normed hidden states {@code [B,T,C]}
     */
    public NDArray hidden(NDArray ids, ForwardContext ctx) {
        if (ctx.tape != null) {
            return layersAndNorm(tapedEmbedding(ids, ctx), ctx);
        }
        return hiddenFromEmbeddings(embed(ids), ctx);
    }

    // the token (and learned position) embeddings of a forward on a tape: looked up on the host, their backward adds
    // the gradient's rows into the tables' .grad (BlasTape#embedding)
    private NDArray tapedEmbedding(NDArray ids, ForwardContext ctx) {
        NDArray[] tables = embedPositions == null ? new NDArray[] {embedTokens.getArray()}
                : new NDArray[] {embedTokens.getArray(), embedPositions.getArray()};
        long[][] rows = new long[tables.length][];
        rows[0] = ids.toType(DataType.INT64, false).toLongArray();
        if (embedPositions != null) {
            rows[1] = ctx.positions.toType(DataType.INT64, false).toLongArray();
        }
        return ctx.tape.embedding(ids.getShape(), tables, rows);
    }

    /**
     * Looks token ids up in the input embedding table (without learned positions, which
     * {@link #hiddenFromEmbeddings} adds).
     *
     * @param ids {@code [B,T]} int64 token ids, owned by the caller's manager
     * @return token embeddings {@code [B,T,C]} in the model's type
     */
    public NDArray embed(NDArray ids) {
        return Embedding.embedding(ids, embedTokens.getArray(), SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * The first piece of {@link #hidden}, for callers that run the model layer by layer (activation
     * checkpointing, parameters gathered per layer): token embeddings, plus learned positions when the
     * architecture has them.
     *
     * @param ids {@code [B,T]} int64 token ids
     * @param ctx from {@link #context}
     * @return {@code [B,T,C]}
     */
    public NDArray embed(NDArray ids, ForwardContext ctx) {
        return withPositions(embed(ids), ctx);
    }

    /**
     * Runs all layers from input embeddings instead of ids, so that some positions can carry other vectors
     * (e.g. projected image patches of a vision-language model). Learned position embeddings, when the
     * architecture has them, are added here.
     *
     * @param x {@code [B,T,C]} input embeddings in the model's type, e.g. from {@link #embed(NDArray)}
     * @param ctx from {@link #context}
     * @return final-normed hidden states {@code [B,T,C]}
     */
    public NDArray hiddenFromEmbeddings(NDArray x, ForwardContext ctx) {
        return layersAndNorm(withPositions(x, ctx), ctx);
    }

    // all layers and the final norm, from the input embeddings (learned positions added)
    private NDArray layersAndNorm(NDArray x, ForwardContext ctx) {
        if (kernels.fused() && ctx.inference && lora.alikeInEveryLayer()) {
            x = scripted().apply(x, ctx);
        } else {
            for (int i = 0; i < layers.size(); i++) {
                x = layer(i, ctx.tape == null ? x : ctx.tape.cut(x, i > 0 || embeddingsTrain()), ctx);
            }
        }
        return finalNorm(x);
    }

    // whether the embedding tables record gradients (DJL's requiresGrad answers for leaves, which parameters are)
    private boolean embeddingsTrain() {
        return JniUtils.requiresGrad((PtNDArray) embedTokens.getArray())
                || embedPositions != null && JniUtils.requiresGrad((PtNDArray) embedPositions.getArray());
    }

    private NDArray withPositions(NDArray x, ForwardContext ctx) {
        if (embedPositions != null) {
            x = x.add(Embedding.embedding(ctx.positions, embedPositions.getArray(), SparseFormat.DENSE).singletonOrThrow());
        }
        return x;
    }

    /** @return the number of decoder layers */
    public int layerCount() {
        return layers.size();
    }

    /**
     * Runs one decoder layer on the composed (differentiable) path.
     *
     * @param index the layer, in [0, {@link #layerCount()})
     * @param x {@code [B,T,C]} the previous layer's output (or {@link #embed}'s)
     * @param ctx from {@link #context}
     * @return {@code [B,T,C]}
     */
    public NDArray layer(int index, NDArray x, ForwardContext ctx) {
        return layers.get(index).apply(x, ctx);
    }

    /**
     * The last piece of {@link #hidden}: the final norm.
     *
     * @param x {@code [B,T,C]} the last layer's output
     * @return final-normed hidden states {@code [B,T,C]}
     */
    public NDArray finalNorm(NDArray x) {
        return finalNorm.apply(x);
    }

    /**
     * Projects hidden states onto the vocabulary.
     *
     * @param hidden {@code [..., C]}
     * @return logits {@code [..., V]} in the model's type
     */
    public NDArray logits(NDArray hidden) {
        HostDecoder host = hostDecoder();
        if (host != null && !JniUtils.isGradMode() && hidden.size() == config.hiddenSize()) {
            return host.logits(hidden);
        }
        NDArray head = head();
        if (kernels.oneDnn() && !JniUtils.isGradMode()) {
            return kernels.ops().linear(hidden, head, null);
        }
        if (kernels.oneDnnTraining() && JniUtils.isGradMode()) {
            return kernels.ops().linearTrainable(hidden, head, null);
        }
        return Linear.linear(hidden, head).singletonOrThrow();
    }

    /**
     * {@link #logits(NDArray)} of a forward that may run on a {@link BlasTape}.
     *
     * @param hidden {@code [..., C]}
     * @param ctx the forward's context
     * @return logits {@code [..., V]} in the model's type
     */
    NDArray logits(NDArray hidden, ForwardContext ctx) {
        return ctx.tape == null ? logits(hidden) : ctx.tape.linear(hidden, head());
    }

    /**
     * The output projection and the weighted mean cross-entropy of a forward on a {@link BlasTape}, as one step
     * ({@link BlasTape#linearCrossEntropy}): the logits are made a block of rows at a time and never whole.
     *
     * @param hidden {@code [..., C]} float32, the positions that predict
     * @param ctx the forward's context, with its tape
     * @param targets each row's target word
     * @param weights each row's weight (0 leaves it unscored)
     * @param count what the weighted sum is divided by
     * @param factor what the loss is multiplied by before backpropagating
     * @return the loss (not multiplied by {@code factor})
     */
    float tapedLoss(NDArray hidden, ForwardContext ctx, long[] targets, float[] weights, float count, float factor) {
        return ctx.tape.linearCrossEntropy(hidden, head(), targets, weights, count, factor);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
        NDArray ids = inputs.singletonOrThrow();
        int b = (int) ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        int[][] positions = new int[b][t];
        for (int[] row : positions) {
            for (int j = 0; j < t; j++) {
                row[j] = j;
            }
        }
        return new NDList(logits(hidden(ids, context(ids.getManager(), positions, null, null, 0))));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), in.get(1), config.vocabSize())};
    }
}
