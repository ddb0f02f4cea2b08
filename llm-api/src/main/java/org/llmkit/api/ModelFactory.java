package org.llmkit.api;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.DecoderModel;

/** Builds models with random weights, reproducibly from a seed. */
final class ModelFactory {
    static final double INITIALIZER_RANGE = 0.02;

    private ModelFactory() { }

    static LanguageModel random(ModelConfig config, long seed) {
        NDManager manager = Devices.newManager(Device.cpu());
        DecoderModel model = null;
        try {
            model = new DecoderModel(config, Architectures.of(config.modelType()).spec(), manager,
                    Precision.FP32, true);
            SplittableRandom random = new SplittableRandom(seed);
            for (Map.Entry<String, Shape> e : model.expectedShapes().entrySet()) {
                model.setWeight(e.getKey(), initial(manager, e.getKey(), e.getValue(), random));
            }
            return new LanguageModel(model, manager, null, GenerationDefaults.of(config), Precision.FP32, null);
        } catch (RuntimeException e) {
            if (model != null) {
                model.close();
            }
            manager.close();
            throw e;
        }
    }

    // transformers' _init_weights: Linear/Embedding ~ N(0, initializer_range), biases 0, norm weights 1.
    private static NDArray initial(NDManager manager, String name, Shape shape, SplittableRandom random) {
        float[] values = new float[Math.toIntExact(shape.size())];
        if (name.endsWith(".bias")) {
            return owned(manager, values, shape);
        }
        if (name.contains("norm")) {
            java.util.Arrays.fill(values, 1f);
            return owned(manager, values, shape);
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * INITIALIZER_RANGE);
        }
        return owned(manager, values, shape);
    }

    /** An array in torch-owned memory (DJL's create over a Java buffer would pin direct memory). */
    private static NDArray owned(NDManager manager, float[] values, Shape shape) {
        try (NDArray staging = manager.create(values, shape)) {
            return staging.duplicate();
        }
    }
}
