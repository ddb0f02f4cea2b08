package org.llmkit.api;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.llmkit.api.generate.Generator;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.vision.ImageProcessor;
import org.llmkit.api.vision.ImageTextSequence;
import org.llmkit.api.vision.LlavaConfig;
import org.llmkit.api.vision.LlavaModel;

/**
 * A LLaVA-style vision-language model: images and text in, text out. A CLIP vision tower and a projector turn
 * each image into {@code config().imageTokens()} vectors that take the place of as many image tokens in the
 * prompt of a decoder language model (Llama, Mistral, Qwen2), which then generates as a {@link LanguageModel}
 * does.
 *
 * <pre>{@code
 * try (VisionLanguageModel v = VisionLanguageModel.load(Path.of("llava-1.5-7b-hf"))) {
 *     String s = v.generate(ImageIO.read(file), "USER: <image>\nWhat is in the picture? ASSISTANT:")
 *             .maxNewTokens(32).text();
 *     float[][][] px = v.preprocess(image);                              // [3][H][W], preprocessor_config.json
 *     int[] ids = v.encode("<image>\nA photo of", 1);                    // placeholder expanded to image tokens
 *     int[] out = v.generate(ids, px).maxNewTokens(10).greedy().tokens();
 * }
 * }</pre>
 *
 * <p>Prompts mark where each image goes with {@value #IMAGE_PLACEHOLDER}; {@link #encode} expands every
 * placeholder to {@code imageTokens()} copies of {@code image_token_index}. Ids given directly must already hold
 * them. Loading reads {@code config.json} ({@code model_type: llava}), the safetensors weights,
 * {@code preprocessor_config.json} and, when present, the tokenizer and {@code generation_config.json}. Float32
 * only. Thread-safe for inference like {@link LanguageModel}; close it to free native memory.
 */
public final class VisionLanguageModel implements AutoCloseable {
    /** The text that marks an image in a prompt, as in transformers' {@code LlavaProcessor}. */
    public static final String IMAGE_PLACEHOLDER = "<image>";

    private final LlavaModel model;
    private final LanguageModel text;
    private final ImageProcessor processor;

    VisionLanguageModel(LlavaModel model, LanguageModel text, ImageProcessor processor) {
        this.model = model;
        this.text = text;
        this.processor = processor;
    }

    /**
     * Loads a LLaVA folder on the CPU in float32.
     *
     * @param folder folder with {@code config.json}, {@code model.safetensors} (or an index and shards),
     *     {@code preprocessor_config.json} and optionally tokenizer files and {@code generation_config.json}
     * @return the model
     * @throws IOException when a file is missing or corrupt, or the config names a vision tower, feature strategy
     *     or activation that is not supported (the message names the file and the field)
     */
    public static VisionLanguageModel load(Path folder) throws IOException {
        return from(folder).load();
    }

    /**
     * Starts configuring a load.
     *
     * @param folder the LLaVA model folder
     * @return a loader
     */
    public static Loader from(Path folder) {
        return new Loader(folder);
    }

    /** @return the shape: vision tower, language model, image token, feature selection */
    public LlavaConfig config() {
        return model.config();
    }

    /**
     * Returns the language model on its own (sharing the weights): for text-only use, LoRA adapters
     * ({@link LanguageModel#saveAdapter}) and fine-tuning. Do not close it separately.
     *
     * @return the language model
     */
    public LanguageModel languageModel() {
        return text;
    }

    /** @return the blocks, for training and advanced use */
    public LlavaModel block() {
        return model;
    }

    /** @return the image preprocessing of this model */
    public ImageProcessor imageProcessor() {
        return processor;
    }

    /**
     * Returns the tokenizer.
     *
     * @return the tokenizer
     * @throws IllegalStateException when the folder had none and none was given to the loader
     */
    public Tokenizer tokenizer() {
        return text.tokenizer();
    }

    /** @return whether a tokenizer is available */
    public boolean hasTokenizer() {
        return text.hasTokenizer();
    }

    /**
     * Returns a view of this model with another tokenizer; both share the weights, close only one of them.
     *
     * @param tokenizer the tokenizer
     * @return the view
     */
    public VisionLanguageModel withTokenizer(Tokenizer tokenizer) {
        return new VisionLanguageModel(model, text.withTokenizer(tokenizer), processor);
    }

    /**
     * Preprocesses an image as {@code preprocessor_config.json} says.
     *
     * @param image the image
     * @return pixel values {@code [3][image_size][image_size]}
     */
    public float[][][] preprocess(BufferedImage image) {
        return processor.apply(image);
    }

    /**
     * Decodes (PNG, JPEG, BMP, GIF, WBMP) and preprocesses an image file.
     *
     * @param file the image file
     * @return pixel values {@code [3][image_size][image_size]}
     * @throws IOException when the file is missing or not a readable image (the message names it)
     */
    public float[][][] preprocess(Path file) throws IOException {
        return processor.apply(file);
    }

    /**
     * Decodes and preprocesses an encoded image.
     *
     * @param encoded PNG, JPEG, BMP, GIF or WBMP bytes
     * @return pixel values {@code [3][image_size][image_size]}
     * @throws IOException when the bytes are not a readable image
     */
    public float[][][] preprocess(byte[] encoded) throws IOException {
        return processor.apply(encoded);
    }

    /**
     * Runs the vision tower and the projector over one image.
     *
     * @param pixelValues {@code [3][image_size][image_size]}
     * @return projected features {@code [imageTokens][text hidden_size]}: what replaces the image tokens
     */
    public float[][] imageFeatures(float[][][] pixelValues) {
        try (NoGradient g = NoGradient.scope(); NDManager m = text.manager().newSubManager()) {
            NDArray features = model.imageFeatures(model.pixelArray(m, java.util.Collections.singletonList(pixelValues)));
            return rows(features.toFloatArray(), config().text().hiddenSize());
        }
    }

    /**
     * Runs the model over one sequence with one image.
     *
     * @param ids token ids holding {@code imageTokens()} image tokens
     * @param pixelValues the image's pixel values
     * @return logits {@code [position][vocab]}
     * @throws IllegalArgumentException when the ids hold another number of image tokens (the message says how
     *     many are needed)
     */
    public float[][] logits(int[] ids, float[][][] pixelValues) {
        return logits(ids, java.util.Collections.singletonList(pixelValues));
    }

    /**
     * Runs the model over one sequence with its images.
     *
     * @param ids token ids holding {@code images.size() * imageTokens()} image tokens
     * @param images pixel values per image, in the order of their tokens
     * @return logits {@code [position][vocab]}
     * @throws IllegalArgumentException when the image tokens and the images do not match
     */
    public float[][] logits(int[] ids, List<float[][][]> images) {
        text.checkIds(ids, "ids");
        ImageTextSequence s = new ImageTextSequence(ids, images, 1);
        try (NoGradient g = NoGradient.scope(); NDManager m = text.manager().newSubManager()) {
            return rows(model.logits(m, List.of(s)).toFloatArray(), config().text().vocabSize());
        }
    }

    /**
     * Mean next-token cross-entropy over the scored tokens of the sequences ({@link ImageTextSequence#firstScored()}
     * onwards, image tokens never scored).
     *
     * @param batch sequences with their images
     * @return the loss in nats per scored token
     */
    public double loss(List<ImageTextSequence> batch) {
        try (NoGradient g = NoGradient.scope(); NDManager m = text.manager().newSubManager()) {
            return model.loss(m, batch).getFloat();
        }
    }

    /**
     * Tokenizes a prompt and expands each {@value #IMAGE_PLACEHOLDER} to {@code imageTokens()} image tokens. The
     * text before the first placeholder is encoded with the tokenizer's special tokens (e.g. BOS), the rest
     * without.
     *
     * @param prompt the prompt
     * @param images how many images go with it: must equal the number of placeholders
     * @return the ids
     * @throws IllegalArgumentException when the placeholder count differs from {@code images}
     * @throws IllegalStateException when the model has no tokenizer
     */
    public int[] encode(String prompt, int images) {
        return encode(prompt, images, true);
    }

    private int[] encode(String prompt, int images, boolean addSpecialTokens) {
        Objects.requireNonNull(prompt, "prompt");
        String[] segments = prompt.split(java.util.regex.Pattern.quote(IMAGE_PLACEHOLDER), -1);
        int placeholders = segments.length - 1;
        if (placeholders != images) {
            throw new IllegalArgumentException("the prompt holds " + placeholders + " image placeholder(s) \""
                    + IMAGE_PLACEHOLDER + "\" but " + images + " image(s) were given; put one placeholder where each"
                    + " image belongs");
        }
        Tokenizer tokenizer = tokenizer();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < segments.length; i++) {
            if (i > 0) {
                for (int k = 0; k < config().imageTokens(); k++) {
                    ids.add(config().imageTokenIndex());
                }
            }
            if (i == 0 || !segments[i].isEmpty()) {
                for (int id : tokenizer.encode(segments[i], i == 0 && addSpecialTokens)) {
                    ids.add(id);
                }
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Tokenizes an image-text example for training or evaluation: the prompt with each placeholder expanded (the
     * images first, each followed by a newline, when it has none), then the target text and the end-of-sequence
     * token (the first of {@code generation_config.json}'s or the config's EOS ids, when there is one). Only the
     * target text and the EOS token are scored.
     *
     * @param images pixel values per image
     * @param prompt the prompt, possibly empty
     * @param target the text the model should produce, non-empty
     * @return the sequence
     * @throws IllegalArgumentException when the prompt has placeholders but not one per image, or the target is empty
     * @throws IllegalStateException when the model has no tokenizer
     */
    public ImageTextSequence sequence(List<float[][][]> images, String prompt, String target) {
        Objects.requireNonNull(prompt, "prompt");
        if (target == null || target.isEmpty()) {
            throw new IllegalArgumentException("the target text is empty; an example needs text to score");
        }
        int[] head = encode(withPlaceholders(prompt, images.size()), images.size());
        int[] answer = tokenizer().encode(target, false);
        java.util.Set<Integer> eos = text.defaults().eosTokenIds();
        int[] ids = Arrays.copyOf(head, head.length + answer.length + (eos.isEmpty() ? 0 : 1));
        System.arraycopy(answer, 0, ids, head.length, answer.length);
        if (!eos.isEmpty()) {
            ids[ids.length - 1] = eos.iterator().next();
        }
        return new ImageTextSequence(ids, images, head.length);
    }

    /**
     * Tokenizes a one-image example; see {@link #sequence(List, String, String)}.
     *
     * @param pixelValues the image's pixel values
     * @param prompt the prompt, possibly empty
     * @param target the text the model should produce, non-empty
     * @return the sequence
     */
    public ImageTextSequence sequence(float[][][] pixelValues, String prompt, String target) {
        return sequence(java.util.Collections.singletonList(Objects.requireNonNull(pixelValues, "pixelValues")), prompt,
                target);
    }

    /**
     * Starts a generation request for ids with one image.
     *
     * @param ids the prompt, holding {@code imageTokens()} image tokens
     * @param pixelValues the image's pixel values
     * @return the request, to configure ({@code maxNewTokens}, {@code greedy}, ...) and run
     * @throws IllegalArgumentException when the ids hold another number of image tokens
     */
    public Generation generate(int[] ids, float[][][] pixelValues) {
        return generate(ids, java.util.Collections.singletonList(Objects.requireNonNull(pixelValues, "pixelValues")));
    }

    /**
     * Starts a generation request for ids with their images: the prefill runs from input embeddings with the
     * projected image features at the image tokens, then decoding continues with the KV cache as for text.
     *
     * @param ids the prompt, holding {@code images.size() * imageTokens()} image tokens
     * @param images pixel values per image, in the order of their tokens
     * @return the request
     * @throws IllegalArgumentException when the image tokens and the images do not match
     */
    public Generation generate(int[] ids, List<float[][][]> images) {
        Objects.requireNonNull(ids, "ids");
        List<float[][][]> pixels = List.copyOf(images);
        model.checkImageTokens(ids, pixels.size(), "ids");
        model.checkPixelValues(pixels);
        return new Generation(text, List.of(ids.clone()), text.defaults(), (prompts, request, listener) -> {
            try (NoGradient g = NoGradient.scope(); NDManager m = text.manager().newSubManager()) {
                NDArray features = pixels.isEmpty() ? null : model.imageFeatures(model.pixelArray(m, pixels));
                Generator.PromptEmbedder embedder = features == null ? null
                        : batch -> model.inputEmbeddings(batch, features);
                return Generator.generate(model.text(), text.manager(), prompts, request, listener, embedder);
            }
        }, pixels.isEmpty());
    }

    /**
     * Starts a generation request for an image and a prompt. The prompt's {@value #IMAGE_PLACEHOLDER} marks where
     * the image goes; a prompt without one gets the image first ({@code "<image>\n" + prompt}).
     *
     * @param image the image
     * @param prompt the prompt, e.g. {@code "USER: <image>\nWhat is in the picture? ASSISTANT:"}
     * @return the request
     * @throws IllegalArgumentException when the prompt holds more than one placeholder
     * @throws IllegalStateException when the model has no tokenizer
     */
    public Generation generate(BufferedImage image, String prompt) {
        return generate(List.of(Objects.requireNonNull(image, "image")), prompt);
    }

    /**
     * Starts a generation request for images and a prompt with one {@value #IMAGE_PLACEHOLDER} per image, in order;
     * a prompt without any placeholder gets the images first, each followed by a newline.
     *
     * @param images the images
     * @param prompt the prompt
     * @return the request
     * @throws IllegalArgumentException when the prompt holds placeholders but not one per image
     * @throws IllegalStateException when the model has no tokenizer
     */
    public Generation generate(List<BufferedImage> images, String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        int[] ids = encode(withPlaceholders(prompt, images.size()), images.size());
        return generate(ids, preprocessAll(images));
    }

    /**
     * Starts a chat turn with images: the messages are rendered with the tokenizer's chat template (with the
     * generation prompt), and each {@value #IMAGE_PLACEHOLDER} in their contents takes the next image.
     *
     * @param messages the conversation so far; contents hold one placeholder per image
     * @param images the images, in placeholder order
     * @return the request
     * @throws IllegalArgumentException when the placeholders and the images do not match
     * @throws IllegalStateException when the model has no tokenizer or no chat template
     */
    public Generation chat(List<ChatMessage> messages, List<BufferedImage> images) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("chat needs at least one message");
        }
        String prompt = tokenizer().applyChatTemplate(messages, true);
        return generate(encode(prompt, images.size(), false), preprocessAll(images));
    }

    // a prompt without placeholders gets the images first, each on its own line
    private static String withPlaceholders(String prompt, int images) {
        return prompt.contains(IMAGE_PLACEHOLDER) ? prompt : (IMAGE_PLACEHOLDER + "\n").repeat(images) + prompt;
    }

    private List<float[][][]> preprocessAll(List<BufferedImage> images) {
        List<float[][][]> out = new ArrayList<>(images.size());
        images.forEach(i -> out.add(preprocess(Objects.requireNonNull(i, "image"))));
        return out;
    }

    /**
     * Saves the model as a LLaVA folder (transformers 4's checkpoint names, which transformers 4 and 5 load):
     * {@code model.safetensors} with the vision tower, the projector and the language model (a LoRA adapter folded
     * in; save it alone with {@code languageModel().saveAdapter(dir)}), the source folder's {@code config.json},
     * {@code preprocessor_config.json} and generation config, and the tokenizer files. Written atomically,
     * {@code config.json} last.
     *
     * @param dir the target folder (created if needed)
     * @throws IOException when writing fails
     */
    public void save(Path dir) throws IOException {
        VisionModelWriter.save(this, dir);
    }

    @Override
    public void close() {
        text.close();
    }

    private static float[][] rows(float[] flat, int width) {
        float[][] out = new float[flat.length / width][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return out;
    }

    /** Configures and runs a load; {@link #load()} validates and loads. */
    public static final class Loader {
        private final Path folder;
        private Device device = Device.cpu();
        private Path tokenizer;

        Loader(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        /**
         * @param d where the weights live and compute runs
         * @return this
         */
        public Loader device(Device d) {
            device = Objects.requireNonNull(d, "device");
            return this;
        }

        /**
         * @param folderOrTokenizerJson a tokenizer to use instead of (or when the model folder has no) tokenizer
         * @return this
         */
        public Loader tokenizer(Path folderOrTokenizerJson) {
            tokenizer = Objects.requireNonNull(folderOrTokenizerJson, "tokenizer");
            return this;
        }

        /**
         * Loads the model.
         *
         * @return the model
         * @throws IOException when a file is missing or corrupt, or the config is not supported (the message names
         *     the file and the field)
         */
        public VisionLanguageModel load() throws IOException {
            return VisionModelLoader.load(folder, device, tokenizer);
        }
    }
}
