package org.llmkit.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.Losses;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.model.TensorType;

/**
 * The optimizer step of a data-parallel, ZeRO-sharded run ({@code devices}, {@code zeroStage},
 * {@code offloadOptimizer}, {@code offloadParameters}, {@code activationCheckpointing}).
 *
 * <p>Each micro-batch (the global batch) is split by sequences over the ranks; rank {@code r}'s mean loss is
 * weighted by its share of the scored tokens, so the summed gradients equal those of the whole batch on one
 * device. Gradients are then reduced: all-reduced into every rank's full gradient buffer (stages 0-1) or
 * reduce-scattered into each rank's shard (stages 2-3). Each rank's AdamW updates its range (everything under
 * stage 0, its shard otherwise) and, for stages 1-2, the updated shards are all-gathered into every replica.
 * Stage 3 keeps only shards and gathers each segment's weights just before it runs.
 *
 * <p>Ranks run one after another on the calling thread. The model the user passed stays the home copy of the
 * weights: ranks start from it and {@link #writeHome()} copies the trained FP32 weights back.
 */
final class ShardedTrainer implements AutoCloseable {
    private final LanguageModel home;
    private final TrainingOptions o;
    private final FlatLayout layout;
    private final List<Rank> ranks;
    private final ShardExchange exchange;
    private final boolean layerwise;
    private final boolean mixed;
    private final ActivationMeter meter;
    private final NDManager hostManager;

    private ShardedTrainer(LanguageModel home, TrainingOptions o, FlatLayout layout, List<Rank> ranks,
            ActivationMeter meter, NDManager hostManager) {
        this.home = home;
        this.o = o;
        this.layout = layout;
        this.ranks = ranks;
        this.layerwise = o.activationCheckpointing || o.zeroStage >= 3;
        this.mixed = !"FP32".equals(o.precision);
        this.meter = meter;
        this.hostManager = hostManager;
        this.exchange = new ShardExchange(layout, ranks, new LocalCollectives(), o.zeroStage);
    }

    /**
     * Builds the ranks from the home model.
     *
     * @param model the home model (FP32, full fine-tuning)
     * @param o the options
     * @param meter receives activation samples, or null
     * @return the trainer
     */
    static ShardedTrainer prepare(LanguageModel model, TrainingOptions o, ActivationMeter meter) {
        DecoderModel block = model.block();
        List<Device> devices = o.deviceList(model.device());
        TrainableSet trainable = TrainableSet.select(block, false, o.decayBiasAndNorm, false);
        FlatLayout layout = FlatLayout.of(trainable, block.layerCount(), block.config().tieWordEmbeddings(),
                devices.size());
        Precision precision = Precision.valueOf(o.precision);
        ShardOptimizer.Hyper hyper = new ShardOptimizer.Hyper(o.beta1, o.beta2, o.epsilon, o.weightDecay);
        NDManager host = Engine.getEngine("PyTorch").newBaseManager(Device.cpu());
        List<Rank> ranks = new ArrayList<>();
        try {
            for (int r = 0; r < devices.size(); r++) {
                Rank rank = Rank.create(r, devices.get(r), block, layout, o.zeroStage, precision, model.manager(),
                        o.offloadParameters ? host : null);
                ranks.add(rank);
                FlatLayout.Range range = o.zeroStage == 0 ? new FlatLayout.Range(0, layout.padded()) : layout.shardOf(r);
                NDArray params = o.zeroStage == 0 ? rank.flatParams() : rank.ownedParams();
                List<FlatLayout.Range> decay = layout.decayRuns(range).stream().map(x -> x.minus(range.start())).toList();
                TensorType type = rank.model().tensorType();
                rank.optimizer(!o.offloadOptimizer
                        ? new DjlAdamW(hyper, rank.manager().newSubManager(), params, type, decay, false)
                        : OffloadKernel.choose(hyper, host, params, type, decay));
            }
        } catch (RuntimeException e) {
            ranks.forEach(Rank::close);
            host.close();
            throw e;
        }
        return new ShardedTrainer(model, o, layout, ranks, meter, host);
    }

    /** @return the ranks, for measuring what each holds */
    List<Rank> ranks() {
        return ranks;
    }

    /** @return the gradient reductions and parameter gathers between the ranks */
    ShardExchange exchange() {
        return exchange;
    }

    /** @return the flat layout */
    FlatLayout layout() {
        return layout;
    }

    /**
     * The outcome of one optimizer step.
     *
     * @param loss the mean loss over the step's micro-batches (unscaled)
     * @param norm the global gradient norm before clipping
     * @param skipped whether the update was skipped (inf or NaN gradient under mixed precision)
     */
    record Outcome(double loss, double norm, boolean skipped) { }

    /**
     * Runs one optimizer step.
     *
     * @param microBatches the step's micro-batches (each the global batch of that micro-step)
     * @param lr the learning rate
     * @param lossScale the FP16 loss scale (1 otherwise)
     * @return loss, norm and whether the step was skipped
     */
    Outcome step(List<int[][]> microBatches, double lr, double lossScale) {
        for (Rank r : ranks) {
            try (NoGradient off = NoGradient.scope()) {
                r.gradients().set(new NDIndex("..."), 0f);
            }
        }
        double loss = 0;
        int micro = microBatches.size();
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            for (int[][] batch : microBatches) {
                List<int[][]> slices = split(batch, ranks.size());
                double total = CausalBatch.scoredTokens(batch);
                double[] factors = new double[ranks.size()];
                for (int r = 0; r < ranks.size(); r++) {
                    factors[r] = CausalBatch.scoredTokens(slices.get(r)) / total / micro;
                }
                if (layerwise) {
                    loss += new LayerwisePass(this, slices, factors, lossScale).run();
                } else {
                    for (int r = 0; r < ranks.size(); r++) {
                        if (slices.get(r).length > 0) {
                            loss += wholeGraph(gc, ranks.get(r), slices.get(r), factors[r], lossScale);
                        }
                    }
                }
            }
            if (!layerwise) {
                try (NoGradient off = NoGradient.scope()) {
                    exchange.reduce(List.of(layout.all()));
                }
            }
        }
        return update(lr, lossScale, loss);
    }

    // forward and backward of one rank's slice through the whole graph; gradients accumulate in .grad
    private double wholeGraph(GradientCollector gc, Rank rank, int[][] slice, double factor, double lossScale) {
        rank.recordGradients(true);
        try (NDManager scratch = rank.manager().newSubManager()) {
            NDArray loss = Losses.causalLm(scratch, rank.model(), slice);
            if (meter != null) {
                meter.sample(scratch);
            }
            NDArray scale = scratch.full(new Shape(), (float) (factor * lossScale), DataType.FLOAT32);
            gc.backward(loss.mul(scale));
            return loss.getFloat() * factor;
        }
    }

    /** @return the activation meter, or null */
    ActivationMeter meter() {
        return meter;
    }

    // clip, step every rank's optimizer, all-gather updated shards
    private Outcome update(double lr, double lossScale, double loss) {
        try (NoGradient off = NoGradient.scope()) {
            List<NDManager> scopes = new ArrayList<>();
            try {
                List<NDArray> grads = new ArrayList<>();
                double squares = 0;
                for (Rank rank : ranks) {
                    NDManager scope = rank.manager().newSubManager();
                    scopes.add(scope);
                    NDArray held = rank.gradients();
                    held.tempAttach(scope);
                    NDArray g = held.getDataType() == DataType.FLOAT32 && lossScale == 1 ? held
                            : rank.model().tensorType().float32(held);
                    if (lossScale != 1) {
                        g = (g == held ? held.duplicate() : g).muli(scope.full(new Shape(), (float) (1 / lossScale),
                                DataType.FLOAT32));
                    }
                    FlatLayout.Range own = layout.shardOf(rank.index()).minus(rank.gradientOrigin());
                    try (NDArray mine = g.get(LocalCollectives.slice(own.start(), own.end()))) {
                        double n = mine.norm().getFloat();
                        squares += n * n;
                    }
                    if (o.zeroStage == 1) {
                        g = g.get(LocalCollectives.slice(own.start(), own.end()));
                    }
                    grads.add(g);
                }
                double norm = Math.sqrt(squares);
                boolean skipped = mixed && !Double.isFinite(norm);
                if (!skipped) {
                    if (o.gradientClipping > 0 && norm > o.gradientClipping && Double.isFinite(norm)) {
                        float coefficient = (float) (o.gradientClipping / (norm + 1e-6));
                        grads.forEach(g -> g.muli(coefficient));
                    }
                    for (int r = 0; r < ranks.size(); r++) {
                        ranks.get(r).optimizer().step(grads.get(r), lr);
                    }
                    if (o.zeroStage == 1 || o.zeroStage == 2) {
                        exchange.gatherParameters();
                    }
                }
                return new Outcome(loss, norm, skipped);
            } finally {
                scopes.forEach(NDManager::close);
            }
        }
    }

    /**
     * Copies the trained FP32 weights (the master copy under mixed precision) into the home model.
     */
    void writeHome() {
        try (NoGradient off = NoGradient.scope()) {
            Map<String, Parameter> homeParams = home.block().parameters();
            List<Rank> sources = o.zeroStage == 0 ? ranks.subList(0, 1) : ranks;
            for (Rank rank : sources) {
                try (NDManager scope = rank.manager().newSubManager()) {
                    FlatLayout.Range range = o.zeroStage == 0 ? layout.all() : layout.shardOf(rank.index());
                    NDArray weights = rank.optimizer().weights(scope);
                    for (FlatLayout.Slot s : layout.slots()) {
                        FlatLayout.Range piece = s.range().intersect(range);
                        if (piece.isEmpty()) {
                            continue;
                        }
                        NDArray target = homeParams.get(s.name()).getArray();
                        try (NDArray flat = target.reshape(s.range().length());
                                NDArray part = flat.get(LocalCollectives.slice(piece.start() - s.range().start(),
                                        piece.end() - s.range().start()));
                                NDArray values = weights.get(LocalCollectives.slice(piece.start() - range.start(),
                                        piece.end() - range.start()))) {
                            LocalCollectives.copyInto(part, values);
                        }
                    }
                }
            }
        }
    }

    /**
     * Splits a global batch by sequences into one slice per rank, the first ranks taking one more when it does
     * not divide evenly.
     *
     * @param batch the global batch
     * @param parts ranks
     * @return the slices, some possibly empty
     */
    static List<int[][]> split(int[][] batch, int parts) {
        List<int[][]> out = new ArrayList<>();
        int base = batch.length / parts;
        int extra = batch.length % parts;
        int from = 0;
        for (int r = 0; r < parts; r++) {
            int n = base + (r < extra ? 1 : 0);
            out.add(java.util.Arrays.copyOfRange(batch, from, from + n));
            from += n;
        }
        return out;
    }

    @Override
    public void close() {
        ranks.forEach(Rank::close);
        hostManager.close();
    }
}
