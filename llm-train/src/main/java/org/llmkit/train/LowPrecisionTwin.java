package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * The FP16 or BF16 copy of a model that mixed-precision training computes with. The caller's model keeps
 * the FP32 master weights, which the optimizer updates; this twin holds their cast, records the gradients
 * and is refreshed from the masters after every optimizer step.
 *
 * <p>A model loaded in FP16 or BF16 is its own twin ({@link #over}): it computes and records the gradients,
 * and this object holds the FP32 master copies of its trainable weights ({@link #masters()}), made by
 * widening them once, which the optimizer updates and which are cast back into the model after every step.
 *
 * <p>The twin always uses torch's fused attention and RMSNorm: the composed DJL path casts with
 * {@code NDArray.toType}, which records no autograd history, so backward would stop there.
 */
final class LowPrecisionTwin implements AutoCloseable {
    private final NDManager manager;
    private final DecoderModel twin;
    private final TrainableSet computing;
    private final TrainableSet masters;

    private LowPrecisionTwin(NDManager manager, DecoderModel twin, TrainableSet computing, TrainableSet masters) {
        this.manager = manager;
        this.twin = twin;
        this.computing = computing;
        this.masters = masters;
    }

    /**
     * Builds the twin of a model (with its LoRA adapter, when attached) and selects its trainable arrays.
     *
     * @param model the FP32 model
     * @param precision FP16 or BF16
     * @param loraOnly train only the adapter
     * @param decayBiasAndNorm as for {@link TrainableSet#select}
     * @return the twin
     */
    static LowPrecisionTwin of(LanguageModel model, Precision precision, boolean loraOnly, boolean decayBiasAndNorm) {
        DecoderModel master = model.block();
        NDManager manager = model.manager().newSubManager();
        DecoderModel twin = new DecoderModel(master.config(), Architectures.of(master.config().modelType()).spec(),
                manager, precision, true);
        try (NoGradient off = NoGradient.scope()) {
            copy(master, twin, master.expectedShapes().keySet(), manager);
            if (master.lora().isPresent()) {
                twin.attachLora(master.lora().get());
                copy(master, twin, master.adapterShapes().keySet(), manager);
            }
        } catch (RuntimeException e) {
            twin.close();
            manager.close();
            throw e;
        }
        return new LowPrecisionTwin(manager, twin, TrainableSet.select(twin, loraOnly, decayBiasAndNorm, true), null);
    }

    /**
     * Trains a model loaded in FP16 or BF16 in place: its trainable arrays record gradients, and FP32 master
     * copies of them are made for the optimizer.
     *
     * @param model the low-precision model
     * @param loraOnly train only the adapter
     * @param decayBiasAndNorm as for {@link TrainableSet#select}
     * @return the twin, whose {@link #masters()} the optimizer updates
     */
    static LowPrecisionTwin over(LanguageModel model, boolean loraOnly, boolean decayBiasAndNorm) {
        TrainableSet computing = TrainableSet.select(model.block(), loraOnly, decayBiasAndNorm, true);
        NDManager manager = model.manager().newSubManager();
        return new LowPrecisionTwin(manager, model.block(), computing,
                TrainableSet.masterCopies(computing, model.block().tensorType(), manager));
    }

    /** @return the FP32 master copies when the model itself is low-precision ({@link #over}), else null */
    TrainableSet masters() {
        return masters;
    }

    private static void copy(DecoderModel from, DecoderModel to, Iterable<String> names, NDManager owner) {
        TensorType type = to.tensorType();
        Map<String, Parameter> params = from.parameters();
        for (String name : names) {
            NDArray cast = type.cast(params.get(name).getArray());
            cast.attach(owner);
            to.setWeight(name, cast);
        }
    }

    /** @return the low-precision decoder to run forward and backward on */
    DecoderModel block() {
        return twin;
    }

    /**
     * Returns the twin's gradients as float32, divided by the loss scale.
     *
     * @param scratch the step's manager: the results are closed with it
     * @param lossScale the factor the loss was multiplied by (1 for none)
     * @return float32 gradients in the trainable set's order
     */
    List<NDArray> gradients(NDManager scratch, double lossScale) {
        TensorType type = twin.tensorType();
        List<NDArray> out = new ArrayList<>();
        try (NoGradient off = NoGradient.scope()) {
            NDArray inverse = scratch.full(new Shape(), (float) (1 / lossScale), DataType.FLOAT32);
            for (NDArray g : computing.gradients(scratch)) {
                NDArray wide = type.float32(g);
                if (lossScale != 1) {
                    wide.muli(inverse);
                }
                out.add(wide);
            }
        }
        return out;
    }

    /**
     * Copies the FP32 masters into the twin (rounded to its type), after an optimizer step.
     *
     * @param masters the FP32 trainable set, in the same order as the twin's
     */
    void refresh(TrainableSet masters) {
        TensorType type = twin.tensorType();
        List<TrainableSet.Entry> to = computing.entries();
        try (NoGradient off = NoGradient.scope()) {
            for (int i = 0; i < to.size(); i++) {
                try (NDArray cast = type.cast(masters.entries().get(i).array())) {
                    to.get(i).array().set(new NDIndex("..."), cast);
                }
            }
        }
    }

    /** Clears the twin's gradients for the next step. */
    void zeroGradients() {
        computing.zeroGradients();
    }

    /**
     * Checks that the twin trains the same parameters, in the same order, as the master set.
     *
     * @param masters the FP32 trainable set
     * @throws IllegalStateException when they differ
     */
    void checkAligned(TrainableSet masters) {
        List<TrainableSet.Entry> a = masters.entries();
        List<TrainableSet.Entry> b = computing.entries();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            if (i >= a.size() || i >= b.size() || !a.get(i).name().equals(b.get(i).name())) {
                throw new IllegalStateException("the " + twin.tensorType().precision()
                        + " twin's trainable parameters differ from the model's at position " + i);
            }
        }
    }

    @Override
    public void close() {
        computing.release();
        if (masters == null) {
            twin.close();
        }
        manager.close();
    }
}
