package org.llmkit.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import ai.djl.ndarray.types.Shape;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.DecoderShapes;

/**
 * The shape of a decoder-only language model: what {@code config.json} says, mapped from
 * HuggingFace's names once, validated, immutable.
 *
 * <p>Read one with {@link #load(Path)} (both the transformers v5 layout with {@code rope_parameters}
 * and the older one with top-level {@code rope_theta}/{@code rope_scaling} are understood), or
 * build one for training from scratch with {@link #builder(String)}.
 *
 * @param modelType HF {@code model_type}: {@code llama}, {@code mistral}, {@code qwen2}, {@code gpt2}
 * @param vocabSize number of token ids
 * @param hiddenSize width of the residual stream (C)
 * @param intermediateSize width of the MLP's hidden layer
 * @param numLayers number of decoder layers
 * @param numHeads number of query heads (H)
 * @param numKvHeads number of key/value heads (KVH); fewer than H means grouped-query attention
 * @param headDim width of one head (D); usually {@code hiddenSize / numHeads}
 * @param maxPositionEmbeddings the longest sequence the model supports
 * @param normEps epsilon of the RMSNorm/LayerNorm layers
 * @param hiddenAct MLP activation: {@code silu}, {@code gelu_new}, {@code gelu_pytorch_tanh} or {@code gelu}
 * @param ropeTheta rotary base (ignored by architectures with learned positions)
 * @param ropeScaling rotary scaling, {@link RopeScaling#NONE} when absent
 * @param slidingWindow attention window in tokens, 0 for full attention
 * @param slidingLayers per layer, whether the sliding window applies (all true when a window is set
 *     and the config does not say otherwise)
 * @param qkvBias whether q/k/v projections have a bias
 * @param outputBias whether the attention output projection has a bias
 * @param mlpBias whether the MLP projections have a bias
 * @param tieWordEmbeddings whether the output head shares the input embedding matrix
 * @param bosTokenId beginning-of-sequence id, or -1
 * @param eosTokenIds end-of-sequence ids (may be empty)
 * @param padTokenId padding id, or -1
 */
public record ModelConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositionEmbeddings,
        double normEps,
        String hiddenAct,
        double ropeTheta,
        RopeScaling ropeScaling,
        int slidingWindow,
        List<Boolean> slidingLayers,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId) {

    /** Validates sizes and derived values; messages give the numbers.
     *
     * @param modelType HF {@code model_type}: {@code llama}, {@code mistral}, {@code qwen2}, {@code gpt2}
     * @param vocabSize number of token ids
     * @param hiddenSize width of the residual stream (C)
     * @param intermediateSize width of the MLP's hidden layer
     * @param numLayers number of decoder layers
     * @param numHeads number of query heads (H)
     * @param numKvHeads number of key/value heads (KVH); fewer than H means grouped-query attention
     * @param headDim width of one head (D); usually {@code hiddenSize / numHeads}
     * @param maxPositionEmbeddings the longest sequence the model supports
     * @param normEps epsilon of the RMSNorm/LayerNorm layers
     * @param hiddenAct MLP activation: {@code silu}, {@code gelu_new}, {@code gelu_pytorch_tanh} or {@code gelu}
     * @param ropeTheta rotary base (ignored by architectures with learned positions)
     * @param ropeScaling rotary scaling, {@link RopeScaling#NONE} when absent
     * @param slidingWindow attention window in tokens, 0 for full attention
     * @param slidingLayers per layer, whether the sliding window applies (all true when a window is set * and the config does not say otherwise)
     * @param qkvBias whether q/k/v projections have a bias
     * @param outputBias whether the attention output projection has a bias
     * @param mlpBias whether the MLP projections have a bias
     * @param tieWordEmbeddings whether the output head shares the input embedding matrix
     * @param bosTokenId beginning-of-sequence id, or -1
     * @param eosTokenIds end-of-sequence ids (may be empty)
     * @param padTokenId padding id, or -1
     */
    public ModelConfig {
        Objects.requireNonNull(modelType, "model_type");
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numHeads
                    + ") is not a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for rotary embeddings");
        }
        if (!(normEps > 0)) {
            throw new IllegalArgumentException("norm epsilon (" + normEps + ") must be > 0");
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("sliding_window (" + slidingWindow + ") must be >= 0 (0 = off)");
        }
        hiddenAct = Objects.requireNonNull(hiddenAct, "hidden_act");
        ropeScaling = ropeScaling == null ? RopeScaling.NONE : ropeScaling;
        if (slidingLayers == null || slidingLayers.isEmpty()) {
            slidingLayers = Collections.nCopies(numLayers, slidingWindow > 0);
        } else if (slidingLayers.size() != numLayers) {
            throw new IllegalArgumentException("layer_types has " + slidingLayers.size()
                    + " entries but num_hidden_layers is " + numLayers);
        }
        slidingLayers = List.copyOf(slidingLayers);
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        for (int id : eosTokenIds) {
            checkTokenId("eos_token_id", id, vocabSize);
        }
        if (bosTokenId >= 0) {
            checkTokenId("bos_token_id", bosTokenId, vocabSize);
        }
        if (padTokenId >= 0) {
            checkTokenId("pad_token_id", padTokenId, vocabSize);
        }
    }

    /**
     * Reads a {@code config.json}.
     *
     * @param configJson the file
     * @return the config
     * @throws IOException when the file is missing or unreadable, or {@link ModelFormatException} when
     *     it is not a valid config of a supported architecture
     */
    public static ModelConfig load(Path configJson) throws IOException {
        return Architectures.readConfig(configJson);
    }

    /**
     * Starts a config for the given architecture with small defaults (a Llama-style model of
     * hidden 256, 4 layers, 4 heads, vocab 512), to be adjusted with the builder's setters.
     *
     * @param modelType {@code llama}, {@code mistral}, {@code qwen2} or {@code gpt2}
     * @return a builder
     */
    public static Builder builder(String modelType) {
        return new Builder(modelType);
    }

    /**
     * Returns a builder initialised with this config's values.
     *
     * @return a builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(modelType);
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.intermediateSize = intermediateSize;
        b.numLayers = numLayers;
        b.numHeads = numHeads;
        b.numKvHeads = numKvHeads;
        b.headDim = headDim;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.normEps = normEps;
        b.hiddenAct = hiddenAct;
        b.ropeTheta = ropeTheta;
        b.ropeScaling = ropeScaling;
        b.slidingWindow = slidingWindow;
        b.slidingLayers = slidingLayers;
        b.qkvBias = qkvBias;
        b.outputBias = outputBias;
        b.mlpBias = mlpBias;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.bosTokenId = bosTokenId;
        b.eosTokenIds = eosTokenIds;
        b.padTokenId = padTokenId;
        return b;
    }

    /**
     * Returns the attention window of a layer.
     *
     * @param layer the layer index
     * @return the window in tokens, or 0 for full causal attention
     */
    public int windowOf(int layer) {
        return slidingLayers.get(layer) ? slidingWindow : 0;
    }

    /**
     * Counts the parameters a model of this shape has (tied embeddings counted once).
     *
     * @return the number of parameters
     */
    public long parameterCount() {
        return DecoderShapes.of(this, Architectures.of(modelType).spec()).values().stream()
                .mapToLong(Shape::size)
                .sum();
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0 but is " + value);
        }
    }

    private static void checkTokenId(String name, int id, int vocab) {
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException(name + " (" + id + ") is outside the vocabulary [0, " + vocab + ")");
        }
    }

    /** Mutable builder for {@link ModelConfig}; {@link #build()} validates. */
    public static final class Builder {
        private final String modelType;
        private int vocabSize = 512;
        private int hiddenSize = 256;
        private int intermediateSize = 688;
        private int numLayers = 4;
        private int numHeads = 4;
        private int numKvHeads = -1;
        private int headDim = -1;
        private int maxPositionEmbeddings = 2048;
        private double normEps = 1e-5;
        private String hiddenAct;
        private double ropeTheta = 10000;
        private RopeScaling ropeScaling = RopeScaling.NONE;
        private int slidingWindow;
        private List<Boolean> slidingLayers = new ArrayList<>();
        private Boolean qkvBias;
        private Boolean outputBias;
        private Boolean mlpBias;
        private Boolean tieWordEmbeddings;
        private int bosTokenId = -1;
        private List<Integer> eosTokenIds = List.of();
        private int padTokenId = -1;

        private Builder(String modelType) {
            this.modelType = Architectures.of(modelType).modelType();
        }

        /**
         * @param v vocabulary size
         * @return this
         */
        public Builder vocabSize(int v) { vocabSize = v; return this; }

        /**
         * @param v hidden size (C)
         * @return this
         */
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }

        /**
         * @param v MLP hidden width
         * @return this
         */
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }

        /**
         * @param v number of layers
         * @return this
         */
        public Builder numLayers(int v) { numLayers = v; return this; }

        /**
         * @param v number of query heads
         * @return this
         */
        public Builder numHeads(int v) { numHeads = v; return this; }

        /**
         * @param v number of key/value heads (defaults to numHeads)
         * @return this
         */
        public Builder numKvHeads(int v) { numKvHeads = v; return this; }

        /**
         * @param v head width (defaults to hiddenSize / numHeads)
         * @return this
         */
        public Builder headDim(int v) { headDim = v; return this; }

        /**
         * @param v context length
         * @return this
         */
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }

        /**
         * @param v normalisation epsilon
         * @return this
         */
        public Builder normEps(double v) { normEps = v; return this; }

        /**
         * @param v activation name
         * @return this
         */
        public Builder hiddenAct(String v) { hiddenAct = v; return this; }

        /**
         * @param v rope base
         * @return this
         */
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }

        /**
         * @param v rope scaling
         * @return this
         */
        public Builder ropeScaling(RopeScaling v) { ropeScaling = v; return this; }

        /**
         * @param v sliding window, 0 = off
         * @return this
         */
        public Builder slidingWindow(int v) { slidingWindow = v; return this; }

        /**
         * @param v per-layer sliding flags (empty = all layers when a window is set)
         * @return this
         */
        public Builder slidingLayers(List<Boolean> v) { slidingLayers = v; return this; }

        /**
         * @param v q/k/v bias
         * @return this
         */
        public Builder qkvBias(boolean v) { qkvBias = v; return this; }

        /**
         * @param v attention output bias
         * @return this
         */
        public Builder outputBias(boolean v) { outputBias = v; return this; }

        /**
         * @param v MLP bias
         * @return this
         */
        public Builder mlpBias(boolean v) { mlpBias = v; return this; }

        /**
         * @param v tie the output head to the embedding
         * @return this
         */
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }

        /**
         * @param v BOS id, -1 for none
         * @return this
         */
        public Builder bosTokenId(int v) { bosTokenId = v; return this; }

        /**
         * @param v EOS ids
         * @return this
         */
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }

        /**
         * @param v pad id, -1 for none
         * @return this
         */
        public Builder padTokenId(int v) { padTokenId = v; return this; }

        /**
         * Validates and builds, filling architecture defaults for unset values.
         *
         * @return the config
         */
        public ModelConfig build() {
            Architectures.of(modelType).applyDefaults(this);
            int kv = numKvHeads > 0 ? numKvHeads : numHeads;
            if (headDim <= 0 && hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("hidden_size (" + hiddenSize
                        + ") is not a multiple of num_attention_heads (" + numHeads + "); set head_dim explicitly");
            }
            int hd = headDim > 0 ? headDim : hiddenSize / numHeads;
            return new ModelConfig(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, kv, hd,
                    maxPositionEmbeddings, normEps, hiddenAct, ropeTheta, ropeScaling, slidingWindow, slidingLayers,
                    qkvBias, outputBias, mlpBias, tieWordEmbeddings, bosTokenId, eosTokenIds, padTokenId);
        }

        /**
         * Sets the architecture's defaults for values the caller left unset; used by architectures.
         *
         * @param act activation
         * @param qkv q/k/v bias
         * @param out output bias
         * @param mlp MLP bias
         * @param tie tied embeddings
         * @return this
         */
        public Builder defaults(String act, boolean qkv, boolean out, boolean mlp, boolean tie) {
            if (hiddenAct == null) { hiddenAct = act; }
            if (qkvBias == null) { qkvBias = qkv; }
            if (outputBias == null) { outputBias = out; }
            if (mlpBias == null) { mlpBias = mlp; }
            if (tieWordEmbeddings == null) { tieWordEmbeddings = tie; }
            return this;
        }
    }
}
