package org.llmkit.api.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import java.util.List;
import java.util.Objects;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardContext;
import org.llmkit.api.model.Losses;

/**
 * A LLaVA model as blocks: the CLIP {@link ClipVisionTower}, the {@link MultiModalProjector} and the language
 * model's {@link DecoderModel}. The forward pass (transformers' {@code LlavaForConditionalGeneration}):
 * <pre>
 * h        = tower.hiddenStates(pixels)[vision_feature_layer]   (several layers: concatenated channels)
 * features = projector(h without the class token)               [I, image_tokens, C_text]
 * x        = embed(ids), with the k-th image-token position replaced by the k-th feature row
 * logits   = decoder.hiddenFromEmbeddings(x) -> lm_head
 * </pre>
 * Every method works under autograd (training) and without (inference); per-call arrays belong to the caller's
 * manager. Weights are read-only here; the model may be shared by threads.
 */
public final class LlavaModel {
    private final LlavaConfig config;
    private final ClipVisionTower tower;
    private final MultiModalProjector projector;
    private final DecoderModel text;

    /**
     * Assembles loaded blocks.
     *
     * @param config the shape
     * @param tower the vision tower
     * @param projector the projector
     * @param text the language model
     */
    public LlavaModel(LlavaConfig config, ClipVisionTower tower, MultiModalProjector projector, DecoderModel text) {
        this.config = Objects.requireNonNull(config, "config");
        this.tower = Objects.requireNonNull(tower, "tower");
        this.projector = Objects.requireNonNull(projector, "projector");
        this.text = Objects.requireNonNull(text, "text");
    }

    /** @return the shape */
    public LlavaConfig config() {
        return config;
    }

    /** @return the vision tower */
    public ClipVisionTower tower() {
        return tower;
    }

    /** @return the projector */
    public MultiModalProjector projector() {
        return projector;
    }

    /** @return the language model */
    public DecoderModel text() {
        return text;
    }

    /**
     * Runs the vision tower and the projector.
     *
     * @param pixelValues {@code [I, channels, image_size, image_size]} float32
     * @return projected image features {@code [I, image_tokens, C_text]}
     */
    public NDArray imageFeatures(NDArray pixelValues) {
        int deepest = 0;
        for (int layer : config.featureLayers()) {
            deepest = Math.max(deepest, config.hiddenStateIndex(layer));
        }
        List<NDArray> states = tower.hiddenStates(pixelValues, deepest);
        NDList selected = new NDList();
        for (int layer : config.featureLayers()) {
            NDArray h = states.get(config.hiddenStateIndex(layer));
            selected.add(config.featureSelection() == LlavaConfig.FeatureSelection.DEFAULT ? h.get(":, 1:, :") : h);
        }
        NDArray features = selected.size() == 1 ? selected.get(0) : NDArrays.concat(selected, -1);
        return text.tensorType().cast(projector.apply(features));
    }

    /**
     * Embeds ids and puts image features at the image-token positions, in reading order (row by row).
     *
     * @param ids {@code [B,T]} int64 ids holding exactly {@code K} image tokens
     * @param features {@code [K, C_text]} (or {@code [I, image_tokens, C_text]} with {@code I * image_tokens = K})
     * @return {@code [B,T,C_text]} input embeddings in the model's type
     * @throws IllegalArgumentException when the number of image tokens differs from the number of feature rows
     */
    public NDArray inputEmbeddings(NDArray ids, NDArray features) {
        long c = config.text().hiddenSize();
        NDArray rows = features.reshape(-1, c);
        long k = rows.getShape().get(0);
        long[] flat = ids.toLongArray();
        long[] index = new long[flat.length];
        long next = 0;
        for (int p = 0; p < flat.length; p++) {
            if (flat[p] == config.imageTokenIndex()) {
                if (next == k) {
                    throw new IllegalArgumentException(mismatch(countImageTokens(flat), k));
                }
                index[p] = flat.length + next++;
            } else {
                index[p] = p;
            }
        }
        if (next != k) {
            throw new IllegalArgumentException(mismatch(next, k));
        }
        NDArray x = text.embed(ids);
        if (k == 0) {
            return x;
        }
        // one lookup table [B*T + K, C]: the ids' own embeddings, then the image features; differentiable in both
        NDArray table = x.reshape(flat.length, c).concat(rows, 0);
        NDArray idx = ids.getManager().create(index, ids.getShape());
        return Embedding.embedding(idx, table, SparseFormat.DENSE).singletonOrThrow();
    }

    private String mismatch(long tokens, long features) {
        return "the ids hold " + tokens + " image token(s) (id " + config.imageTokenIndex() + ") but the images give "
                + features + " feature row(s): each image takes " + config.imageTokens()
                + " image tokens, so expand each image placeholder to " + config.imageTokens() + " copies of "
                + config.imageTokenIndex();
    }

    private long countImageTokens(long[] ids) {
        long n = 0;
        for (long id : ids) {
            n += id == config.imageTokenIndex() ? 1 : 0;
        }
        return n;
    }

    /**
     * Checks that ids hold exactly {@code images * image_tokens} image tokens.
     *
     * @param ids token ids
     * @param images the number of images that go with them
     * @param what names the ids in the message
     * @throws IllegalArgumentException naming the counts and how to fix them
     */
    public void checkImageTokens(int[] ids, int images, String what) {
        long tokens = 0;
        for (int id : ids) {
            tokens += id == config.imageTokenIndex() ? 1 : 0;
        }
        long expected = (long) images * config.imageTokens();
        if (tokens != expected) {
            throw new IllegalArgumentException(what + " hold(s) " + tokens + " image token(s) (id "
                    + config.imageTokenIndex() + ") but " + images + " image(s) need " + expected + ": each image takes "
                    + config.imageTokens() + " image tokens; expand each image placeholder to that many copies of "
                    + config.imageTokenIndex() + " and give one image per placeholder");
        }
    }

    /**
     * Checks that every image has the shape the vision tower takes.
     *
     * @param images pixel values {@code [channels][image_size][image_size]} each
     * @throws IllegalArgumentException naming the image and both shapes otherwise
     */
    public void checkPixelValues(List<float[][][]> images) {
        VisionConfig v = config.vision();
        int ch = v.numChannels();
        int s = v.imageSize();
        for (int i = 0; i < images.size(); i++) {
            float[][][] px = images.get(i);
            if (px == null || px.length != ch || px[0].length != s || px[0][0].length != s) {
                throw new IllegalArgumentException("image " + i + " has pixel values of shape " + describe(px)
                        + " but the vision tower takes [" + ch + "][" + s + "][" + s + "] (num_channels, image_size);"
                        + " make them with the model's preprocess(...)");
            }
            for (float[][] plane : px) {
                if (plane.length != s) {
                    throw new IllegalArgumentException("image " + i + " has a plane of " + plane.length
                            + " rows; the vision tower takes " + s);
                }
                for (float[] row : plane) {
                    if (row.length != s) {
                        throw new IllegalArgumentException("image " + i + " has a pixel row of " + row.length
                                + " values; the vision tower takes " + s);
                    }
                }
            }
        }
    }

    /**
     * Stacks images into one array.
     *
     * @param m owner of the result
     * @param images pixel values {@code [channels][image_size][image_size]} each, as the image processor makes
     * @return {@code [I, channels, image_size, image_size]} float32
     * @throws IllegalArgumentException when an image has another shape than the vision tower takes
     */
    public NDArray pixelArray(NDManager m, List<float[][][]> images) {
        checkPixelValues(images);
        VisionConfig v = config.vision();
        int ch = v.numChannels();
        int s = v.imageSize();
        float[] flat = new float[images.size() * ch * s * s];
        int at = 0;
        for (float[][][] px : images) {
            for (float[][] plane : px) {
                for (float[] row : plane) {
                    System.arraycopy(row, 0, flat, at, s);
                    at += s;
                }
            }
        }
        return m.create(flat, new Shape(images.size(), ch, s, s));
    }

    private static String describe(float[][][] px) {
        if (px == null) {
            return "null";
        }
        return "[" + px.length + "][" + (px.length > 0 ? px[0].length : 0) + "]["
                + (px.length > 0 && px[0].length > 0 ? px[0][0].length : 0) + "]";
    }

    /**
     * Runs the whole model over sequences with their images.
     *
     * @param m manager of the per-call arrays
     * @param batch sequences (right-padded to the longest; padding is masked)
     * @return logits {@code [B, T, V]} float32
     */
    public NDArray logits(NDManager m, List<ImageTextSequence> batch) {
        return forward(m, batch).logits;
    }

    /**
     * Mean next-token cross-entropy over the scored tokens of every sequence (see
     * {@link ImageTextSequence#firstScored()}; image tokens are never scored). Works under autograd.
     *
     * @param m manager of the per-call arrays
     * @param batch sequences with at least one scored token in all
     * @return a 0-dim float32 array
     * @throws IllegalArgumentException when no token is scored
     */
    public NDArray loss(NDManager m, List<ImageTextSequence> batch) {
        Forward f = forward(m, batch);
        int b = batch.size();
        int t = f.length;
        long[] targets = new long[b * (t - 1)];
        float[] weights = new float[b * (t - 1)];
        int scored = 0;
        for (int i = 0; i < b; i++) {
            int[] ids = batch.get(i).ids();
            for (int j = 0; j + 1 < t; j++) {
                int target = j + 1;
                boolean score = target < ids.length && target >= batch.get(i).firstScored()
                        && ids[target] != config.imageTokenIndex();
                targets[i * (t - 1) + j] = score ? ids[target] : 0;
                weights[i * (t - 1) + j] = score ? 1f : 0f;
                scored += score ? 1 : 0;
            }
        }
        if (scored == 0) {
            throw new IllegalArgumentException("no token of the batch is scored: every sequence needs a text token"
                    + " after its firstScored position");
        }
        return Losses.crossEntropy(f.logits, m.create(targets, new Shape(b, t - 1)),
                m.create(weights, new Shape(b, t - 1)), m.full(new Shape(), scored, ai.djl.ndarray.types.DataType.FLOAT32));
    }

    private record Forward(NDArray logits, int length) { }

    private Forward forward(NDManager m, List<ImageTextSequence> batch) {
        if (batch == null || batch.isEmpty()) {
            throw new IllegalArgumentException("the batch is empty");
        }
        int b = batch.size();
        int t = 0;
        List<float[][][]> images = new java.util.ArrayList<>();
        for (int i = 0; i < b; i++) {
            ImageTextSequence s = batch.get(i);
            checkImageTokens(s.ids(), s.images().size(), "sequence " + i);
            for (int id : s.ids()) {
                if (id < 0 || id >= config.text().vocabSize()) {
                    throw new IllegalArgumentException("sequence " + i + ": token id " + id
                            + " is outside the vocabulary [0, " + config.text().vocabSize() + ")");
                }
            }
            t = Math.max(t, s.ids().length);
            images.addAll(s.images());
        }
        long[] ids = new long[b * t];
        int[][] positions = new int[b][t];
        boolean[][] valid = new boolean[b][t];
        boolean ragged = false;
        for (int i = 0; i < b; i++) {
            int[] s = batch.get(i).ids();
            ragged |= s.length != t;
            for (int j = 0; j < t; j++) {
                positions[i][j] = j;
                valid[i][j] = j < s.length;
                ids[i * t + j] = j < s.length ? s[j] : 0;
            }
        }
        NDArray idArray = m.create(ids, new Shape(b, t));
        NDArray x;
        if (images.isEmpty()) {
            x = text.embed(idArray);
        } else {
            x = inputEmbeddings(idArray, imageFeatures(pixelArray(m, images)));
        }
        ForwardContext ctx = text.context(m, positions, ragged ? valid : null, null, 0);
        NDArray logits = text.tensorType().float32(text.logits(text.hiddenFromEmbeddings(x, ctx)));
        return new Forward(logits, t);
    }
}
