package org.llmkit.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.api.vision.ImageTextSequence;
import org.llmkit.data.ImageTextDataset;

/**
 * Turns image-text examples into scored sequences for a vision-language model: prompt with its image tokens, then
 * the target text and EOS (see {@link VisionLanguageModel#sequence}). Token ids are computed once; pixel values
 * are decoded on use and the most recent {@value #CACHED_IMAGES} images are kept.
 */
final class VisionExamples {
    static final int CACHED_IMAGES = 256;

    private final VisionLanguageModel model;
    private final ImageTextDataset data;
    private final List<int[]> ids = new ArrayList<>();
    private final List<Integer> firstScored = new ArrayList<>();
    private final Map<Path, float[][][]> pixels = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, float[][][]> eldest) {
            return size() > CACHED_IMAGES;
        }
    };

    /**
     * Tokenizes every example and checks it against the model before any training.
     *
     * @param model the model
     * @param data the examples
     * @param what names the data in messages
     * @throws IllegalArgumentException naming the example when its placeholders do not match its images or it does
     *     not fit the model's context
     */
    VisionExamples(VisionLanguageModel model, ImageTextDataset data, String what) {
        this.model = model;
        this.data = data;
        int context = model.config().text().maxPositionEmbeddings();
        float[][][] blank = new float[model.config().vision().numChannels()][model.config().vision().imageSize()]
                [model.config().vision().imageSize()];
        for (int i = 0; i < data.size(); i++) {
            ImageTextDataset.Example e = data.get(i);
            ImageTextSequence s;
            try {
                s = model.sequence(java.util.Collections.nCopies(e.images().size(), blank), e.prompt(), e.text());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(what + ": example " + i + " (" + e.images().get(0) + "): "
                        + ex.getMessage(), ex);
            }
            if (s.ids().length > context) {
                throw new IllegalArgumentException(what + ": example " + i + " has " + s.ids().length
                        + " tokens with its image tokens, more than the model's context of " + context
                        + " (max_position_embeddings)");
            }
            ids.add(s.ids());
            firstScored.add(s.firstScored());
        }
    }

    /** @return the number of examples */
    int size() {
        return data.size();
    }

    /**
     * @param index the example
     * @return its sequence with decoded pixel values
     * @throws UncheckedIOException naming the image when it cannot be read
     */
    ImageTextSequence get(int index) {
        List<float[][][]> images = new ArrayList<>();
        for (Path p : data.get(index).images()) {
            images.add(pixels(p));
        }
        return new ImageTextSequence(ids.get(index), images, firstScored.get(index));
    }

    /**
     * @param index the example
     * @return how many of its tokens a loss scores (text and EOS, never image tokens)
     */
    int scoredTokens(int index) {
        int[] s = ids.get(index);
        int image = model.config().imageTokenIndex();
        int n = 0;
        for (int p = firstScored.get(index); p < s.length; p++) {
            n += s[p] != image ? 1 : 0;
        }
        return n;
    }

    /**
     * @param index the example
     * @return its length in tokens
     */
    int length(int index) {
        return ids.get(index).length;
    }

    private float[][][] pixels(Path image) {
        synchronized (pixels) {
            float[][][] px = pixels.get(image);
            if (px == null) {
                try {
                    px = model.preprocess(image);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                pixels.put(image, px);
            }
            return px;
        }
    }
}
