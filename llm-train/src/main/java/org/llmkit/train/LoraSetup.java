package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.LoraConfig;
import org.llmkit.api.model.DecoderModel;

/** Attaches a fresh LoRA adapter with PEFT's default initialisation. */
final class LoraSetup {
    private LoraSetup() { }

    /**
     * Attaches {@code config} to the model and fills it: {@code lora_A [r, in]} from
     * {@code U(-1/sqrt(in), 1/sqrt(in))} (PEFT: {@code kaiming_uniform_(a=sqrt(5))}), {@code lora_B [out, r]}
     * zeros, so the adapted model starts equal to the base.
     *
     * @param model the model, without an adapter
     * @param config the adapter settings
     * @param seed the seed of {@code A}'s values
     * @throws IllegalArgumentException when no module matches the targets (the message lists those that exist)
     */
    static void attach(LanguageModel model, LoraConfig config, long seed) {
        DecoderModel block = model.block();
        block.attachLora(config);
        SplittableRandom random = new SplittableRandom(seed);
        NDManager manager = model.manager();
        for (Map.Entry<String, Shape> e : block.adapterShapes().entrySet()) {
            Shape shape = e.getValue();
            float[] values = new float[Math.toIntExact(shape.size())];
            if (e.getKey().contains(".lora_A.")) {
                double bound = 1.0 / Math.sqrt(shape.get(1));
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
            }
            NDArray wide = TorchArrays.owned(manager, values, shape);
            NDArray typed = block.tensorType().cast(wide);   // in the model's type (FP16/BF16 models)
            if (typed != wide) {
                wide.close();
            }
            block.setWeight(e.getKey(), typed);
        }
    }
}
