package org.llmkit.api.vision;

import java.util.List;
import java.util.Objects;

/**
 * One tokenized image-text sequence: ids with every image placeholder already expanded to the model's image
 * tokens, the pixel values of its images in placeholder order, and where the scored text starts.
 *
 * @param ids token ids, non-empty
 * @param images pixel values {@code [channels][H][W]} per image, in the order their tokens appear
 * @param firstScored the position of the first token a loss predicts (e.g. the caption after the prompt); 1 scores
 *     every token but the first. Image tokens are never scored
 */
public record ImageTextSequence(int[] ids, List<float[][][]> images, int firstScored) {

    /**
     * Validates and copies the lists.
     *
     * @param ids token ids, non-empty
     * @param images pixel values per image
     * @param firstScored first scored position, in {@code [1, ids.length]}
     * @throws IllegalArgumentException for empty ids or a scored position outside the sequence
     */
    public ImageTextSequence {
        Objects.requireNonNull(ids, "ids");
        if (ids.length == 0) {
            throw new IllegalArgumentException("ids are empty; a sequence needs at least one token");
        }
        images = List.copyOf(images);
        if (firstScored < 1 || firstScored > ids.length) {
            throw new IllegalArgumentException("firstScored (" + firstScored + ") must be in [1, " + ids.length
                    + "] for a sequence of " + ids.length + " tokens");
        }
    }
}
