package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Inverted dropout for the inputs of LoRA branches during one training forward (see
 * {@link ForwardOptions}). Each call draws a fresh mask from one seeded generator, so a forward's masks
 * depend only on the seed and the fixed order in which its LoRA projections run. Not thread-safe: one
 * instance per forward.
 */
final class LoraDropout {
    private final double probability;
    private final float kept;
    private final SplittableRandom random;

    /**
     * @param probability the probability of zeroing an element, in (0, 1)
     * @param seed the seed of the masks
     */
    LoraDropout(double probability, long seed) {
        this.probability = probability;
        this.kept = (float) (1.0 / (1.0 - probability));
        this.random = new SplittableRandom(seed);
    }

    /**
     * Returns {@code x * mask}, each mask element 0 with the probability, else {@code 1 / (1 - p)}.
     *
     * @param x the branch input {@code [..., in]}, an activation in the forward's manager
     * @param type the model's type (the mask is cast to it)
     * @return the dropped-out input, in x's manager
     */
    NDArray apply(NDArray x, TensorType type) {
        int n = Math.toIntExact(x.getShape().size());
        ByteBuffer values = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            values.putFloat(random.nextDouble() < probability ? 0f : kept);
        }
        values.rewind();
        // the mask lives in the forward's manager until the step ends: backward reads it (DJL-NOTES trap 1)
        NDArray mask = x.getManager().create(values, x.getShape(), DataType.FLOAT32);
        return x.mul(type.cast(mask));
    }

    /**
     * Writes {@code x * mask} into {@code out}, drawing the mask exactly as {@link #apply} would for an input of
     * {@code n} elements (so a forward on the host draws the same masks in the same order).
     *
     * @param x the branch input, {@code n} floats from position 0
     * @param out where the dropped-out input goes, {@code n} floats from position 0
     * @param n the number of elements
     * @return the positions that were zeroed; every other element was multiplied by {@link #keptScale()}
     */
    BitSet applyOnHost(FloatBuffer x, FloatBuffer out, int n) {
        BitSet dropped = new BitSet(n);
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < probability) {
                dropped.set(i);
                out.put(i, 0f);
            } else {
                out.put(i, x.get(i) * kept);
            }
        }
        return dropped;
    }

    /** @return the factor {@code 1 / (1 - p)} that kept elements are multiplied by */
    float keptScale() {
        return kept;
    }
}
