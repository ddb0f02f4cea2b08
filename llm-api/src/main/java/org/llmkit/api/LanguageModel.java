package org.llmkit.api;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.llmkit.api.generate.GenerationResult;
import org.llmkit.api.generate.BatchDecoder;
import org.llmkit.api.generate.Generator;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.Losses;
import org.llmkit.api.model.NoGradient;

/**
 * A decoder-only language model loaded from a HuggingFace folder (or created with random weights),
 * running on DJL's PyTorch engine.
 *
 * <pre>{@code
 * try (LanguageModel m = LanguageModel.load(Path.of("Llama-3.2-1B"))) {
 *     String s = m.generate("Once upon a time").maxNewTokens(32).text();
 * }
 * }</pre>
 *
 * <p>The model is safe to share between threads for {@link #logits}, {@link #loss} and generation:
 * weights are read-only and every call keeps its own state. Close it to free native memory.
 */
public final class LanguageModel implements AutoCloseable {
    private final DecoderModel model;
    private final NDManager manager;
    private final Tokenizer tokenizer;
    private final GenerationDefaults defaults;
    private final Precision precision;
    private final Path source;

    LanguageModel(DecoderModel model, NDManager manager, Tokenizer tokenizer, GenerationDefaults defaults,
            Precision precision, Path source) {
        this.model = model;
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.defaults = defaults;
        this.precision = precision;
        this.source = source;
    }

    /**
     * Loads a HuggingFace model folder on the CPU in float32.
     *
     * @param folder folder with {@code config.json}, {@code model.safetensors} (or an index and shards) and
     *     optionally tokenizer files and {@code generation_config.json}
     * @return the model
     * @throws IOException when a file is missing or corrupt; the message names it
     */
    public static LanguageModel load(Path folder) throws IOException {
        return from(folder).load();
    }

    /**
     * Starts configuring a load.
     *
     * @param folder the HuggingFace model folder
     * @return a loader
     */
    public static Loader from(Path folder) {
        return new Loader(folder);
    }

    /**
     * Creates a model with random weights, for training from scratch: linear and embedding weights
     * {@code N(0, 0.02)} (transformers' {@code initializer_range}), biases 0, norm weights 1. The same config
     * and seed give the same weights on every machine.
     *
     * @param config the architecture and sizes
     * @param seed the seed
     * @return the model (no tokenizer)
     */
    public static LanguageModel create(ModelConfig config, long seed) {
        return ModelFactory.random(config, seed);
    }

    /** @return the config */
    public ModelConfig config() {
        return model.config();
    }

    /**
     * Returns the tokenizer loaded from the model folder.
     *
     * @return the tokenizer
     * @throws IllegalStateException when the folder had no tokenizer files
     */
    public Tokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("this model has no tokenizer: " + (source == null
                    ? "it was created from a config; load one with Tokenizer.load(path)"
                    : source + " has no tokenizer.json"));
        }
        return tokenizer;
    }

    /** @return whether a tokenizer is available */
    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    /** @return the weight precision */
    public Precision precision() {
        return precision;
    }

    /** @return the device the weights live on */
    public Device device() {
        return manager.getDevice();
    }

    /** @return the folder the model was loaded from, or null for a created model */
    public Path source() {
        return source;
    }

    /** @return the attached LoRA adapter's settings, if any */
    public Optional<LoraConfig> adapter() {
        return model.lora();
    }

    /**
     * Returns a copy of this model with another tokenizer (e.g. for a model created from a config).
     * Both share the weights; close only one of them.
     *
     * @param newTokenizer the tokenizer
     * @return a model view using it
     */
    public LanguageModel withTokenizer(Tokenizer newTokenizer) {
        return new LanguageModel(model, manager, Objects.requireNonNull(newTokenizer), defaults, precision, source);
    }

    /**
     * Runs the model over one sequence.
     *
     * @param ids token ids, non-empty, inside the vocabulary
     * @return logits {@code [position][vocab]} in float32
     */
    public float[][] logits(int[] ids) {
        checkIds(ids, "ids");
        try (NoGradient g = NoGradient.scope(); NDManager m = manager.newSubManager()) {
            NDArray out = forward(m, new int[][] {ids});
            float[] flat = out.toFloatArray();
            int v = config().vocabSize();
            float[][] rows = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) {
                rows[t] = Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            }
            return rows;
        }
    }

    /**
     * Runs a batch of prompts of different lengths together (left-padded, padding masked out) and
     * returns each prompt's last-position logits: equal, within float tolerance, to running each alone.
     *
     * @param prompts non-empty prompts
     * @return {@code [prompt][vocab]} float32 logits
     */
    public float[][] lastLogits(List<int[]> prompts) {
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("lastLogits needs at least one prompt");
        }
        int longest = 0;
        for (int i = 0; i < prompts.size(); i++) {
            checkIds(prompts.get(i), "prompt " + i);
            longest = Math.max(longest, prompts.get(i).length);
        }
        int b = prompts.size();
        long[] flat = new long[b * longest];
        int[][] positions = new int[b][longest];
        boolean[][] valid = new boolean[b][longest];
        for (int i = 0; i < b; i++) {
            int[] p = prompts.get(i);
            int pad = longest - p.length;
            for (int j = 0; j < p.length; j++) {
                flat[i * longest + pad + j] = p[j];
                positions[i][pad + j] = j;
                valid[i][pad + j] = true;
            }
        }
        try (NoGradient g = NoGradient.scope(); NDManager m = manager.newSubManager()) {
            ForwardContext ctx = model.context(m, positions, valid, null, 0);
            NDArray hidden = model.hidden(m.create(flat, new Shape(b, longest)), ctx)
                    .get(new ai.djl.ndarray.index.NDIndex(":, -1, :"));
            NDArray logits = model.logits(hidden);
            float[] values = model.tensorType().float32(logits).toFloatArray();
            int v = config().vocabSize();
            float[][] rows = new float[b][];
            for (int i = 0; i < b; i++) {
                rows[i] = Arrays.copyOfRange(values, i * v, (i + 1) * v);
            }
            return rows;
        }
    }

    /**
     * Mean next-token cross-entropy over a batch (labels = inputs, HF convention: position t predicts
     * token t+1). Sequences may differ in length; each needs at least two tokens.
     *
     * @param batch token sequences
     * @return the loss in nats per predicted token
     */
    public double loss(int[][] batch) {
        if (batch == null || batch.length == 0) {
            throw new IllegalArgumentException("loss needs at least one sequence");
        }
        for (int i = 0; i < batch.length; i++) {
            checkIds(batch[i], "sequence " + i);
            if (batch[i].length < 2) {
                throw new IllegalArgumentException("sequence " + i + " has " + batch[i].length
                        + " token(s); the loss needs at least 2 (one input, one target)");
            }
        }
        try (NoGradient g = NoGradient.scope(); NDManager m = manager.newSubManager()) {
            return Losses.causalLm(m, model, batch).getFloat();
        }
    }

    /**
     * Starts a generation request for token ids.
     *
     * @param promptIds the prompt, non-empty
     * @return the request, to configure and run
     */
    public Generation generate(int[] promptIds) {
        Objects.requireNonNull(promptIds, "promptIds");
        return new Generation(this, List.of(promptIds.clone()), defaults);
    }

    /**
     * Starts a batched generation request (prompts are left-padded and run together).
     *
     * @param prompts prompts, each non-empty
     * @return the request; run it with {@link Generation#results()}
     */
    public Generation generate(List<int[]> prompts) {
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("generate needs at least one prompt");
        }
        List<int[]> copy = new ArrayList<>();
        prompts.forEach(p -> copy.add(Objects.requireNonNull(p, "prompt").clone()));
        return new Generation(this, copy, defaults);
    }

    /**
     * Starts a generation request for text, encoded with the tokenizer's special tokens (e.g. BOS),
     * as transformers' pipelines do.
     *
     * @param prompt the prompt, non-empty
     * @return the request
     */
    public Generation generate(String prompt) {
        if (prompt == null || prompt.isEmpty()) {
            throw new IllegalArgumentException("prompt is empty; generation needs at least one token of context");
        }
        return generate(tokenizer().encode(prompt, true));
    }

    /**
     * Starts a chat turn: the messages are rendered with the tokenizer's chat template (with the
     * generation prompt) and the model answers.
     *
     * @param messages the conversation so far
     * @return the request
     */
    public Generation chat(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("chat needs at least one message");
        }
        String prompt = tokenizer().applyChatTemplate(messages, true);
        return generate(tokenizer().encode(prompt, false));
    }

    /**
     * Saves the model in HuggingFace layout: {@code config.json}, {@code model.safetensors}, the tokenizer
     * and generation config when present. A LoRA adapter is folded into the saved weights (use
     * {@link #saveAdapter} to save it separately). Files are written atomically.
     *
     * @param dir the target folder (created if needed)
     * @throws IOException when writing fails
     */
    public void save(Path dir) throws IOException {
        ModelWriter.save(this, dir);
    }

    /**
     * Saves the attached LoRA adapter in PEFT format ({@code adapter_config.json} +
     * {@code adapter_model.safetensors}) so that PEFT can load it.
     *
     * @param dir the target folder
     * @throws IOException when writing fails
     * @throws IllegalStateException when no adapter is attached
     */
    public void saveAdapter(Path dir) throws IOException {
        LoraAdapters.save(model, dir);
    }

    /**
     * Folds the attached LoRA adapter into the base weights ({@code W += alpha/r * B A}) and removes it.
     * Not safe while other threads use the model.
     *
     * @return this model
     * @throws IllegalStateException when no adapter is attached
     */
    public LanguageModel mergeAdapter() {
        if (model.lora().isEmpty()) {
            throw new IllegalStateException("no LoRA adapter is attached to merge");
        }
        model.mergeLora();
        return this;
    }

    /**
     * Returns the DJL block behind this model, for training and advanced use.
     *
     * @return the decoder block
     */
    public DecoderModel block() {
        return model;
    }

    /** @return the manager that owns the weights */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        model.close();
        manager.close();
    }

    NDArray forward(NDManager m, int[][] batch) {
        int b = batch.length;
        int t = batch[0].length;
        long[] flat = new long[b * t];
        int[][] positions = new int[b][t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                flat[i * t + j] = batch[i][j];
                positions[i][j] = j;
            }
        }
        ForwardContext ctx = model.context(m, positions, null, null, 0);
        NDArray logits = model.logits(model.hidden(m.create(flat, new Shape(b, t)), ctx));
        return model.tensorType().float32(logits);
    }

    /**
     * Opens a continuous batch on this model: sequences join and leave between decode steps, each with its own
     * settings and KV cache, and every step is one forward pass over all of them (what a server wants).
     *
     * <pre>{@code
     * try (ContinuousBatch batch = model.continuousBatch(16, 16 * 1024)) {
     *     batch.admit(model.generate(ids).maxNewTokens(64).temperature(0.7).seed(1), listener);
     *     while (batch.running() > 0) {
     *         batch.step();            // admit more between steps
     *     }
     * }
     * }</pre>
     *
     * @param maxSequences sequences decoded together at most; &gt; 0
     * @param maxKvTokens cap on prompt + {@code maxNewTokens} summed over running sequences; &gt; 0
     * @return the batch, to be used from one thread and closed
     */
    public ContinuousBatch continuousBatch(int maxSequences, long maxKvTokens) {
        return new ContinuousBatch(this, new BatchDecoder(model, manager, maxSequences, maxKvTokens));
    }

    List<GenerationResult> runGeneration(List<int[]> prompts, Generator.Request request,
            Generator.PieceListener listener) {
        try (NoGradient g = NoGradient.scope()) {
            return Generator.generate(model, manager, prompts, request, listener);
        }
    }

    void checkIds(int[] ids, String what) {
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException(what + " is empty; at least one token id is needed");
        }
        int vocab = config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException(what + ": token id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        if (ids.length > config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException(what + " has " + ids.length + " tokens, more than the model's context of "
                    + config().maxPositionEmbeddings() + " (max_position_embeddings)");
        }
    }

    GenerationDefaults defaults() {
        return defaults;
    }

    Tokenizer tokenizerOrNull() {
        return tokenizer;
    }

    /** Configures and runs a model load; {@link #load()} validates and loads. */
    public static final class Loader {
        private final Path folder;
        private Device device = Device.cpu();
        private Precision precision = Precision.FP32;
        private Path adapter;
        private boolean fused = true;

        Loader(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        /**
         * @param d where the weights live and compute runs ({@code Device.cpu()} or {@code Device.gpu()})
         * @return this
         */
        public Loader device(Device d) {
            device = Objects.requireNonNull(d, "device");
            return this;
        }

        /**
         * @param p FP32 (default), FP16 or BF16
         * @return this
         */
        public Loader precision(Precision p) {
            precision = Objects.requireNonNull(p, "precision");
            return this;
        }

        /**
         * @param peftFolder a PEFT LoRA adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors})
         * @return this
         */
        public Loader adapter(Path peftFolder) {
            adapter = Objects.requireNonNull(peftFolder, "adapter");
            return this;
        }

        /**
         * Chooses torch's fused attention and RMSNorm kernels (default) or the same math composed from
         * DJL ops, which is slower and kept as the reference the fused path is tested against. BF16
         * always uses the fused kernels.
         *
         * @param f true for fused kernels
         * @return this
         */
        public Loader fusedKernels(boolean f) {
            fused = f;
            return this;
        }

        /**
         * Loads the model.
         *
         * @return the model
         * @throws IOException when a file is missing or corrupt (the message names it)
         */
        public LanguageModel load() throws IOException {
            return ModelLoader.load(folder, device, precision, adapter, fused);
        }
    }
}
