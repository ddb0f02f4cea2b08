package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * The parameters a run trains: all of them for full fine-tuning, only {@code lora_A}/{@code lora_B}
 * for LoRA (the base is frozen: its arrays record no gradient). Also computes the global gradient norm,
 * clips and clears gradients.
 */
final class TrainableSet {
    private final List<Entry> entries = new ArrayList<>();

    /**
     * One trainable parameter.
     *
     * @param name HF name
     * @param array the parameter's array (for q/k/v and gate/up a row view of a packed tensor)
     * @param decay whether weight decay applies
     */
    record Entry(String name, NDArray array, boolean decay) {
        /**
         * @param scratch the manager the gradient handle is attached to (it is closed with it)
         * @return the accumulated gradient, sharing memory with the parameter's {@code .grad}
         */
        NDArray gradient(NDManager scratch) {
            NDArray g = array.getGradient();
            g.attach(scratch);
            return g;
        }
    }

    private TrainableSet() { }

    /**
     * Selects trainable parameters and switches gradient recording on for them only.
     *
     * @param model the decoder
     * @param loraOnly train only the adapter
     * @param decayBiasAndNorm whether 1-D parameters (biases, norm weights) get weight decay
     * @return the set
     */
    static TrainableSet select(DecoderModel model, boolean loraOnly, boolean decayBiasAndNorm) {
        return select(model, loraOnly, decayBiasAndNorm, true);
    }

    /**
     * Selects trainable parameters; with {@code record} false their arrays record no gradient (FP32
     * master weights under mixed precision, whose gradients come from the low-precision twin).
     *
     * @param model the decoder
     * @param loraOnly train only the adapter
     * @param decayBiasAndNorm whether 1-D parameters (biases, norm weights) get weight decay
     * @param record whether the selected arrays record gradients
     * @return the set
     */
    static TrainableSet select(DecoderModel model, boolean loraOnly, boolean decayBiasAndNorm, boolean record) {
        TrainableSet set = new TrainableSet();
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            boolean isLora = e.getKey().contains(".lora_A.") || e.getKey().contains(".lora_B.");
            boolean train = !loraOnly || isLora;
            a.setRequiresGradient(train && record);
            if (train) {
                // transformers excludes biases and LayerNorm/RMSNorm weights from decay: here, the 1-D ones
                boolean oneDim = a.getShape().dimension() == 1;
                set.entries.add(new Entry(e.getKey(), a, decayBiasAndNorm || !oneDim));
            }
        }
        return set;
    }

    /**
     * Makes float32 master copies of a low-precision model's trainable arrays (for training a model loaded in
     * FP16 or BF16): same names, order and decay, values widened exactly. The copies record no gradient.
     *
     * @param computing the low-precision trainable set
     * @param type the model's type (its casts)
     * @param owner the manager that owns the copies
     * @return the float32 set
     */
    static TrainableSet masterCopies(TrainableSet computing, TensorType type, NDManager owner) {
        TrainableSet set = new TrainableSet();
        try (NoGradient off = NoGradient.scope()) {
            for (Entry e : computing.entries) {
                NDArray wide = type.float32(e.array());
                NDArray master = wide == e.array() ? wide.duplicate() : wide;
                master.attach(owner);
                set.entries.add(new Entry(e.name(), master, e.decay()));
            }
        }
        return set;
    }

    /**
     * Adds every parameter of another block (a vision-language model's projector) and switches gradient
     * recording on for them.
     *
     * @param prefix prepended to the parameters' names (keeps optimizer state names unique)
     * @param params name to parameter
     * @param decayBiasAndNorm whether 1-D parameters get weight decay
     * @return this set
     */
    TrainableSet include(String prefix, Map<String, Parameter> params, boolean decayBiasAndNorm) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray a = e.getValue().getArray();
            a.setRequiresGradient(true);
            entries.add(new Entry(prefix + e.getKey(), a, decayBiasAndNorm || a.getShape().dimension() != 1));
        }
        return this;
    }

    /** @return the trainable parameters, in model order */
    List<Entry> entries() {
        return entries;
    }

    /** @return the number of trainable scalars */
    long size() {
        return entries.stream().mapToLong(e -> e.array().getShape().size()).sum();
    }

    /**
     * @param scratch the step's manager (the handles are closed with it)
     * @return every entry's accumulated gradient, in entry order
     */
    List<NDArray> gradients(NDManager scratch) {
        List<NDArray> grads = new ArrayList<>();
        entries.forEach(e -> grads.add(e.gradient(scratch)));
        return grads;
    }

    /**
     * Returns the global L2 norm of the gradients and, when it exceeds {@code maxNorm > 0}, scales every
     * gradient in place by {@code maxNorm / (norm + 1e-6)} as {@code torch.nn.utils.clip_grad_norm_} does.
     * A non-finite norm (an inf or NaN gradient) is returned as is and nothing is scaled.
     *
     * @param grads the float32 gradients
     * @param maxNorm the clipping threshold, 0 for none
     * @return the norm before clipping
     */
    static double normAndClip(List<NDArray> grads, double maxNorm) {
        try (NoGradient off = NoGradient.scope()) {
            double squares = 0;
            for (NDArray g : grads) {
                double n = g.norm().getFloat();
                squares += n * n;
            }
            double norm = Math.sqrt(squares);
            if (maxNorm > 0 && norm > maxNorm && Double.isFinite(norm)) {
                float coefficient = (float) (maxNorm / (norm + 1e-6));
                grads.forEach(g -> g.muli(coefficient));
            }
            return norm;
        }
    }

    /** Clears every gradient (torch's {@code zero_grad}), so the next step accumulates from 0. */
    void zeroGradients() {
        entries.forEach(e -> JniUtils.zeroGrad((PtNDArray) e.array()));
    }

    /** Stops gradient recording on the model's parameters after training. */
    void release() {
        entries.forEach(e -> e.array().setRequiresGradient(false));
    }
}
