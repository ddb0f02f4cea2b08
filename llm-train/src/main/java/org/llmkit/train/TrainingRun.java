package org.llmkit.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.LoraConfig;
import org.llmkit.api.Precision;
import org.llmkit.api.model.Autocast;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.ForwardOptions;
import org.llmkit.api.model.Losses;
import org.llmkit.data.TokenDataset;

/**
 * One call of {@link FineTuner#train}: the step loop. Each optimizer step runs in its own NDManager
 * (DJL-NOTES trap 6): up to {@code gradientAccumulation} micro-batches, each a forward with autograd on
 * (so llm-api takes its differentiable path) and a backward of {@code loss / microBatches}; then the
 * global-norm clip, the AdamW update and a gradient reset.
 *
 * <p>Under FP16 or BF16 the forward and backward run on a {@link LowPrecisionTwin}; its gradients are
 * widened to float32 (and, for FP16, divided by the {@link LossScaler}'s scale) and AdamW updates the
 * model's FP32 master weights, which are then cast back into the twin. A step whose unscaled gradients
 * hold an inf or NaN is skipped: no update, the scale backs off.
 *
 * <p>Under BF16, an FP32 model whose training GEMMs run on OpenBLAS ({@link DecoderModel#trainsOnOpenBlas(int)})
 * trains itself under {@link Autocast} instead: no twin and no master copy, its linear layers multiply in bfloat16
 * and everything else stays float32; a step whose gradients hold an inf or NaN is skipped as well.
 */
final class TrainingRun implements AutoCloseable {
    private final LanguageModel model;
    private final TrainingOptions o;
    private final TokenDataset data;
    private final TrainableSet trainable;
    private final LowPrecisionTwin twin;
    private final Autocast autocast;
    private final LossScaler scaler;
    private final AdamW optimizer;
    private final DataOrder order;
    private final long totalSteps;
    private final History history;
    private final Reporter reporter;
    private final ForwardPlan forwards;
    private final ShardedTrainer sharded;

    private TrainingRun(LanguageModel model, TrainingOptions o, TokenDataset data, TrainableSet trainable,
            LowPrecisionTwin twin, Autocast autocast, LossScaler scaler, AdamW optimizer, DataOrder order,
            long totalSteps, History history, Reporter reporter, ShardedTrainer sharded) {
        this.model = model;
        this.o = o;
        this.data = data;
        this.trainable = trainable;
        this.twin = twin;
        this.autocast = autocast;
        this.scaler = scaler;
        this.optimizer = optimizer;
        this.order = order;
        this.totalSteps = totalSteps;
        this.history = history;
        this.reporter = reporter;
        this.forwards = new ForwardPlan(o.effectiveLoraDropout(model.adapter()), o.seed,
                o.resolvedDocumentSeparator(data, model));
        this.sharded = sharded;
    }

    static TrainingRun prepare(LanguageModel model, TrainingOptions o, TokenDataset data, Checkpoints.Resumed resumed)
            throws IOException {
        if (o.loraRequested() && model.adapter().isEmpty()) {
            LoraSetup.attach(model, new LoraConfig(o.loraRank, o.loraAlpha, Math.max(0, o.loraDropout), o.loraTargets,
                    false), o.seed);
        }
        boolean loraOnly = model.adapter().isPresent();
        Precision precision = Precision.valueOf(o.precision);
        boolean mixed = precision != Precision.FP32;
        // memory strategies train replicas or shards (ShardedTrainer); the model is then only the home copy
        boolean sharded = o.sharded();
        TrainableSet trainable;
        LowPrecisionTwin twin = null;
        boolean autocasting = false;
        if (sharded) {
            trainable = TrainableSet.select(model.block(), loraOnly, o.decayBiasAndNorm, false);
        } else if (mixed && model.precision() != Precision.FP32) {
            // a model loaded in FP16/BF16 computes itself; the optimizer updates FP32 copies of its weights
            twin = LowPrecisionTwin.over(model, loraOnly, o.decayBiasAndNorm);
            trainable = twin.masters();
        } else if (precision == Precision.BF16 && model.block().trainsOnOpenBlas(forwardRows(o, data))) {
            // the FP32 model trains itself, its linear layers' products in bf16
            trainable = TrainableSet.select(model.block(), loraOnly, o.decayBiasAndNorm, true);
            autocasting = true;
        } else {
            trainable = TrainableSet.select(model.block(), loraOnly, o.decayBiasAndNorm, !mixed);
            if (mixed) {
                twin = LowPrecisionTwin.of(model, precision, loraOnly, o.decayBiasAndNorm);
                twin.checkAligned(trainable);
            }
        }
        LossScaler scaler = null;
        if (precision == Precision.FP16) {
            scaler = resumed == null || resumed.lossScale() <= 0
                    ? new LossScaler(o.initialLossScale, 0, o.lossScaleGrowthInterval)
                    : new LossScaler(resumed.lossScale(), resumed.lossScaleGoodSteps(), o.lossScaleGrowthInterval);
        }
        AdamW optimizer = new AdamW(model.manager(), o.beta1, o.beta2, o.epsilon, o.weightDecay);
        DataOrder order = resumed == null
                ? new DataOrder(data.size(), o.batchSize, o.shuffle, o.seed, 0, 0)
                : new DataOrder(data.size(), o.batchSize, o.shuffle, o.seed, resumed.epoch(), resumed.batch());
        History history = resumed == null ? new History() : resumed.history();
        if (resumed != null) {
            resumed.restoreOptimizer(optimizer, trainable);
        }
        int batches = order.batchesPerEpoch();
        long perEpoch = (batches + o.gradientAccumulation - 1) / o.gradientAccumulation;
        long total = o.maxSteps > 0 ? o.maxSteps : perEpoch * o.epochs;
        Reporter reporter = new Reporter(o, total, history.steps());
        // opened last: nothing after it can fail and leave it open
        Autocast autocast = autocasting ? model.block().autocastBf16(forwardRows(o, data)) : null;
        return new TrainingRun(model, o, data, trainable, twin, autocast, scaler, optimizer, order, total, history,
                reporter, sharded ? ShardedTrainer.prepare(model, o, null) : null);
    }

    TrainingResult run() throws IOException {
        Evaluator evaluator = o.validation == null ? null : new Evaluator(model, o.validation, o.batchSize, forwards);
        if (evaluator != null && history.steps() == 0) {
            reporter.evaluation(history.add(evaluator.evaluate(0)));
        }
        long tokens = 0;
        long start = System.nanoTime();
        for (long step = history.steps(); step < totalSteps; step++) {
            double lr = o.learningRate * o.schedule.factor(step, o.warmupSteps, totalSteps);
            double lossScale = scaler == null ? 1 : scaler.scale();
            double loss = 0;
            double norm;
            boolean skipped;
            long stepTokens = 0;
            int epoch = order.epoch();
            if (sharded != null) {
                List<int[][]> batches = new java.util.ArrayList<>();
                int micro = (int) Math.min(o.gradientAccumulation, order.batchesPerEpoch() - order.batch());
                for (int k = 0; k < micro; k++) {
                    batches.add(batch(order.next()));
                    for (int[] s : batches.get(k)) {
                        stepTokens += s.length;
                    }
                }
                ShardedTrainer.Outcome outcome = sharded.step(batches, lr, lossScale);
                loss = outcome.loss();
                norm = outcome.norm();
                skipped = outcome.skipped();
            } else try (NDManager scratch = model.manager().newSubManager()) {
                // the step's micro-batches: up to gradientAccumulation, never across an epoch's end
                int micro = (int) Math.min(o.gradientAccumulation, order.batchesPerEpoch() - order.batch());
                for (int k = 0; k < micro; k++) {
                    int[][] batch = batch(order.next());
                    for (int[] s : batch) {
                        stepTokens += s.length;
                    }
                    loss += backward(scratch, batch, forwards.training(step, k), lossScale / micro) / micro;
                }
                List<NDArray> grads = twin == null ? trainable.gradients(scratch) : twin.gradients(scratch, lossScale);
                norm = TrainableSet.normAndClip(grads, o.gradientClipping);
                skipped = (twin != null || autocast != null) && !Double.isFinite(norm);
                if (!skipped) {
                    optimizer.step(scratch, trainable, grads, lr);
                    if (twin != null) {
                        twin.refresh(trainable);
                    }
                }
                if (twin == null) {
                    trainable.zeroGradients();
                } else {
                    twin.zeroGradients();
                }
            }
            if (scaler != null) {
                scaler.update(skipped);
            }
            tokens += stepTokens;
            double seconds = (System.nanoTime() - start) / 1e9;
            StepMetrics metrics = new StepMetrics(step + 1, totalSteps, epoch, loss, norm, lr, stepTokens,
                    tokens / Math.max(seconds, 1e-9), seconds, skipped, lossScale);
            history.add(metrics);
            reporter.step(metrics);
            boolean last = step + 1 == totalSteps;
            if (sharded != null && (last || evaluator != null && (step + 1) % o.evaluateEvery == 0)) {
                sharded.writeHome();
            }
            if (evaluator != null && ((step + 1) % o.evaluateEvery == 0 || last)) {
                reporter.evaluation(history.add(evaluator.evaluate(step + 1)));
            }
            if (o.checkpointEvery > 0 && ((step + 1) % o.checkpointEvery == 0 || last)) {
                Checkpoints.write(model, o, optimizer, trainable, scaler, order, history, data.size());
            }
            for (TrainingListener l : o.listeners) {
                l.onStep(metrics);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        reporter.finish(history);
        return history.result(tokens / Math.max(seconds, 1e-9), trainable.size());
    }

    // forward with autograd recording and backward of loss * factor; returns the unscaled loss
    private double backward(NDManager scratch, int[][] batch, ForwardOptions forward, double factor) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            return Losses.causalLmBackward(scratch, twin == null ? model.block() : twin.block(), batch, forward,
                    (float) factor);
        }
    }

    // tokens in one forward's batch (for the kernel choice)
    private static int forwardRows(TrainingOptions o, TokenDataset data) {
        return o.batchSize * (data.size() == 0 ? 1 : data.get(0).length);
    }

    private int[][] batch(long[] indices) {
        int[][] batch = new int[indices.length][];
        for (int i = 0; i < indices.length; i++) {
            batch[i] = data.get(indices[i]);
        }
        return batch;
    }

    @Override
    public void close() {
        reporter.close();
        if (sharded != null) {
            sharded.close();
        }
        trainable.release();
        if (twin != null) {
            twin.close();
        }
        if (autocast != null) {
            autocast.close();
        }
        optimizer.close();
    }
}
