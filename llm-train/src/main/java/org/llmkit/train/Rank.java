package org.llmkit.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Map;
import org.llmkit.api.Precision;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * What one data-parallel rank owns on its device: a model skeleton to compute with, its parameters (the whole
 * flat vector for ZeRO stages 0-2, only its shard for stage 3), its gradients (the whole vector for stages
 * 0-1, its shard for 2-3) and its optimizer. Every array a rank holds is counted by {@link #parameterBytes},
 * {@link #gradientBytes} and {@link #optimizerBytes}.
 *
 * <p>Stage 0-2 skeletons compute with views of the flat parameter buffer, so gathering updated shards into
 * the buffer updates the model. Stage 3 skeletons hold placeholders (a broadcast scalar of the right shape, 2
 * or 4 bytes) until {@link #install} swaps in a gathered segment for one layer step and {@link #release} takes
 * it out again.
 */
final class Rank implements AutoCloseable {
    private final int index;
    private final NDManager manager;
    private final DecoderModel model;
    private final FlatLayout layout;
    private final int stage;
    private final NDArray flatParams;
    private final NDArray paramShard;
    private final NDArray gradients;
    private final NDArray placeholderScalar;
    private final boolean shardOffloaded;
    private ShardOptimizer optimizer;

    private Rank(int index, NDManager manager, DecoderModel model, FlatLayout layout, int stage, NDArray flatParams,
            NDArray paramShard, NDArray gradients, NDArray placeholderScalar, boolean shardOffloaded) {
        this.shardOffloaded = shardOffloaded;
        this.index = index;
        this.manager = manager;
        this.model = model;
        this.layout = layout;
        this.stage = stage;
        this.flatParams = flatParams;
        this.paramShard = paramShard;
        this.gradients = gradients;
        this.placeholderScalar = placeholderScalar;
    }

    /**
     * Builds a rank from the home model's weights.
     *
     * @param index the rank
     * @param device its device
     * @param home the model whose weights start the run (any device)
     * @param layout the flat layout
     * @param stage the ZeRO stage
     * @param precision the compute precision
     * @param parent manager the rank's manager is a child of
     * @param shardHome where a stage-3 parameter shard lives: the rank's manager, or host memory (offloaded)
     * @return the rank; its optimizer is set with {@link #optimizer(ShardOptimizer)}
     */
    static Rank create(int index, Device device, DecoderModel home, FlatLayout layout, int stage, Precision precision,
            NDManager parent, NDManager shardHome) {
        NDManager manager = parent.newSubManager(device);
        try (NoGradient off = NoGradient.scope()) {
            DecoderModel model = new DecoderModel(home.config(), Architectures.of(home.config().modelType()).spec(),
                    manager, precision, home.fused());
            TensorType type = model.tensorType();
            NDArray flat = flatten(manager, home.parameters(), layout, type);
            NDArray shard = null;
            NDArray scalar = null;
            Map<String, Parameter> params = model.parameters();
            if (stage >= 3) {
                FlatLayout.Range own = layout.shardOf(index);
                try (NDArray view = flat.get(LocalCollectives.slice(own.start(), own.end()))) {
                    shard = LocalCollectives.copyTo(view, shardHome == null ? device : shardHome.getDevice());
                }
                shard.attach(shardHome == null ? manager : shardHome);
                flat.close();
                flat = null;
                scalar = type.zeros(manager, new Shape());
                for (FlatLayout.Slot s : layout.slots()) {
                    setArray(params.get(s.name()), scalar.broadcast(s.shape()));
                }
            } else {
                for (FlatLayout.Slot s : layout.slots()) {
                    setArray(params.get(s.name()), view(flat, s.range(), s.shape()));
                }
            }
            long gradLength = stage >= 2 ? layout.shardSize() : layout.padded();
            NDArray grads = manager.zeros(new Shape(gradLength), gradientType(precision));
            Rank rank = new Rank(index, manager, model, layout, stage, flat, shard, grads, scalar, shardHome != null);
            rank.recordGradients(true);
            return rank;
        }
    }

    // the home model's trainable weights, cast and laid out flat (padded with zeros)
    private static NDArray flatten(NDManager m, Map<String, Parameter> home, FlatLayout layout, TensorType type) {
        NDArray flat = type.zeros(m, new Shape(layout.padded()));
        for (FlatLayout.Slot s : layout.slots()) {
            NDArray w = home.get(s.name()).getArray();
            NDArray onDevice = w.toDevice(m.getDevice(), true);
            NDArray cast = type.cast(onDevice);
            try (NDArray part = flat.get(LocalCollectives.slice(s.range().start(), s.range().end()))) {
                part.set(new ai.djl.ndarray.index.NDIndex("..."), cast.reshape(s.range().length()));
            }
            cast.close();
            onDevice.close();
        }
        return flat;
    }

    static DataType gradientType(Precision precision) {
        return precision == Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    private static NDArray view(NDArray flat, FlatLayout.Range r, Shape shape) {
        return flat.get(LocalCollectives.slice(r.start(), r.end())).reshape(shape);
    }

    private static void setArray(Parameter p, NDArray array) {
        p.setArray(array);
        array.setName(null);   // TorchScript calls read a dotted array name as a dict key
    }

    /** @param o this rank's optimizer (closed with the rank) */
    void optimizer(ShardOptimizer o) {
        this.optimizer = o;
    }

    ShardOptimizer optimizer() {
        return optimizer;
    }

    int index() {
        return index;
    }

    NDManager manager() {
        return manager;
    }

    Device device() {
        return manager.getDevice();
    }

    DecoderModel model() {
        return model;
    }

    /** @return the whole flat parameter buffer (stages 0-2), null under stage 3 */
    NDArray flatParams() {
        return flatParams;
    }

    /** @return the parameters this rank owns: the flat buffer's shard (stages 0-2) or its own shard (stage 3) */
    NDArray ownedParams() {
        if (paramShard != null) {
            return paramShard;
        }
        FlatLayout.Range own = layout.shardOf(index);
        return flatParams.get(LocalCollectives.slice(own.start(), own.end()));
    }

    /** @return the gradient buffer: the whole flat vector (stages 0-1) or this rank's shard (stages 2-3) */
    NDArray gradients() {
        return gradients;
    }

    /** @return the flat position {@link #gradients()} starts at */
    long gradientOrigin() {
        return stage >= 2 ? layout.shardOf(index).start() : 0;
    }

    /**
     * Puts gathered weights into the skeleton (stage 3).
     *
     * @param segment the segment
     * @param gathered one flat buffer per range of the segment, in its order
     * @param record whether the weights should record gradients
     */
    void install(FlatLayout.Segment segment, java.util.List<NDArray> gathered, boolean record) {
        Map<String, Parameter> params = model.parameters();
        for (FlatLayout.Slot s : segment.slots()) {
            for (int i = 0; i < segment.ranges().size(); i++) {
                FlatLayout.Range r = segment.ranges().get(i);
                if (r.intersect(s.range()).length() == s.range().length()) {
                    NDArray view = view(gathered.get(i), s.range().minus(r.start()), s.shape());
                    NDArray p = params.get(s.name()).getArray();
                    p.intern(view);
                    p.setRequiresGradient(record);
                }
            }
        }
    }

    /**
     * Takes a segment's gathered weights (and their gradients) out of the skeleton again (stage 3).
     *
     * @param segment the segment
     */
    void release(FlatLayout.Segment segment) {
        Map<String, Parameter> params = model.parameters();
        for (FlatLayout.Slot s : segment.slots()) {
            NDArray p = params.get(s.name()).getArray();
            p.intern(placeholderScalar.broadcast(s.shape()));
            p.setRequiresGradient(false);
        }
    }

    /**
     * Switches gradient recording of the skeleton's parameters (stages 0-2).
     *
     * @param record on or off
     */
    void recordGradients(boolean record) {
        if (stage < 3) {
            for (FlatLayout.Slot s : layout.slots()) {
                model.parameters().get(s.name()).getArray().setRequiresGradient(record);
            }
        }
    }

    /**
     * Returns a parameter's accumulated gradient, or null when backward has not reached it.
     *
     * @param name the parameter
     * @param owner manager the handle is attached to
     * @return the gradient, sharing memory with the parameter's {@code .grad}
     */
    NDArray gradientOf(String name, NDManager owner) {
        NDArray p = model.parameters().get(name).getArray();
        if (!p.hasGradient()) {
            return null;
        }
        NDArray g = p.getGradient();
        if (g != null) {
            g.attach(owner);
        }
        return g;
    }

    /**
     * Frees a parameter's {@code .grad} (torch keeps it until the tensor dies; zeroing would keep the memory):
     * the parameter's handle is swapped for a detached alias of the same storage.
     *
     * @param name the parameter
     */
    void dropGradient(String name) {
        NDArray p = model.parameters().get(name).getArray();
        boolean record = p.hasGradient();
        p.intern(JniUtils.detachGradient((PtNDArray) p));
        p.setRequiresGradient(record);
    }

    /** @return bytes of parameters this rank holds on its device */
    long parameterBytes() {
        NDArray a = paramShard != null ? paramShard : flatParams;
        return shardOffloaded ? 0 : a.size() * bytes(a);
    }

    /** @return bytes of parameters this rank keeps in host memory (stage 3 with offloaded parameters) */
    long hostParameterBytes() {
        return shardOffloaded ? paramShard.size() * bytes(paramShard) : 0;
    }

    /** @return bytes of gradients this rank holds on its device */
    long gradientBytes() {
        return gradients.size() * bytes(gradients);
    }

    /** @return bytes of optimizer state this rank holds on its device */
    long optimizerBytes() {
        return optimizer == null ? 0 : optimizer.deviceBytes();
    }

    /** @return bytes of optimizer state this rank keeps in host memory */
    long hostBytes() {
        return optimizer == null ? 0 : optimizer.hostBytes();
    }

    private static long bytes(NDArray a) {
        // DJL labels bfloat16 arrays UNKNOWN (DJL-NOTES trap 2)
        return a.getDataType() == DataType.UNKNOWN ? 2 : a.getDataType().getNumOfBytes();
    }

    @Override
    public void close() {
        if (optimizer != null) {
            optimizer.close();
        }
        model.close();
        manager.close();
    }
}
