package org.llmkit.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.LoraConfig;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.api.model.NoGradient;
import org.llmkit.api.vision.ImageTextSequence;
import org.llmkit.api.vision.LlavaModel;

/**
 * One call of {@link VisionFineTuner#train}: the step loop over image-text batches. Each step runs in its own
 * NDManager: a forward with autograd on (vision tower, projector, language model from input embeddings), a
 * backward of the mean loss over the batch's text tokens, the global-norm clip, the AdamW update and a gradient
 * reset. The vision tower's parameters never record gradients; the language model's do only for LoRA.
 */
final class VisionTrainingRun implements AutoCloseable {
    private final VisionLanguageModel model;
    private final TrainingOptions o;
    private final VisionExamples train;
    private final VisionExamples validation;
    private final long evaluateEvery;
    private final TrainableSet trainable;
    private final AdamW optimizer;
    private final DataOrder order;
    private final long totalSteps;
    private final History history = new History();
    private final Reporter reporter;

    private VisionTrainingRun(VisionLanguageModel model, TrainingOptions o, VisionExamples train,
            VisionExamples validation, long evaluateEvery, TrainableSet trainable, long totalSteps)
            throws IOException {
        this.model = model;
        this.o = o;
        this.train = train;
        this.validation = validation;
        this.evaluateEvery = evaluateEvery;
        this.trainable = trainable;
        this.totalSteps = totalSteps;
        this.optimizer = new AdamW(model.languageModel().manager(), o.beta1, o.beta2, o.epsilon, o.weightDecay);
        this.order = new DataOrder(train.size(), o.batchSize, o.shuffle, o.seed, 0, 0);
        this.reporter = new Reporter(o, totalSteps, 0);
    }

    static VisionTrainingRun prepare(VisionLanguageModel model, TrainingOptions o, boolean projector,
            VisionExamples train, VisionExamples validation, long evaluateEvery) throws IOException {
        if (o.loraRequested() && model.languageModel().adapter().isEmpty()) {
            LoraSetup.attach(model.languageModel(),
                    LoraConfig.of(o.loraRank, o.loraAlpha, o.loraTargets.toArray(new String[0])), o.seed);
        }
        LlavaModel blocks = model.block();
        for (Parameter p : blocks.tower().parameters().values()) {
            p.getArray().setRequiresGradient(false);
        }
        // the language model's LoRA parameters when it has an adapter; its base weights stay frozen
        TrainableSet trainable = TrainableSet.select(blocks.text(), true, o.decayBiasAndNorm);
        if (projector) {
            trainable.include("multi_modal_projector.", blocks.projector().parameters(), o.decayBiasAndNorm);
        } else {
            blocks.projector().parameters().values().forEach(p -> p.getArray().setRequiresGradient(false));
        }
        int batches = (train.size() + o.batchSize - 1) / o.batchSize;
        long total = o.maxSteps > 0 ? o.maxSteps : (long) batches * o.epochs;
        return new VisionTrainingRun(model, o, train, validation, evaluateEvery, trainable, total);
    }

    TrainingResult run() throws IOException {
        if (validation != null) {
            reporter.evaluation(history.add(evaluate(0)));
        }
        long tokens = 0;
        long start = System.nanoTime();
        for (long step = 0; step < totalSteps; step++) {
            double lr = o.learningRate * o.schedule.factor(step, o.warmupSteps, totalSteps);
            int epoch = order.epoch();
            long[] indices = order.next();
            List<ImageTextSequence> batch = new ArrayList<>();
            long stepTokens = 0;
            for (long i : indices) {
                batch.add(train.get((int) i));
                stepTokens += train.length((int) i);
            }
            double loss;
            double norm;
            try (NDManager scratch = model.languageModel().manager().newSubManager()) {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray l = model.block().loss(scratch, batch);
                    gc.backward(l);
                    loss = l.getFloat();
                }
                List<NDArray> grads = trainable.gradients(scratch);
                norm = TrainableSet.normAndClip(grads, o.gradientClipping);
                optimizer.step(scratch, trainable, grads, lr);
                trainable.zeroGradients();
            }
            tokens += stepTokens;
            double seconds = (System.nanoTime() - start) / 1e9;
            StepMetrics metrics = new StepMetrics(step + 1, totalSteps, epoch, loss, norm, lr, stepTokens,
                    tokens / Math.max(seconds, 1e-9), seconds, false, 1);
            history.add(metrics);
            reporter.step(metrics);
            if (validation != null && ((step + 1) % evaluateEvery == 0 || step + 1 == totalSteps)) {
                reporter.evaluation(history.add(evaluate(step + 1)));
            }
            for (TrainingListener l : o.listeners) {
                l.onStep(metrics);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        reporter.finish(history);
        return history.result(tokens / Math.max(seconds, 1e-9), trainable.size());
    }

    /** The held-out loss: mean cross-entropy over every scored token of the validation examples. */
    private Evaluation evaluate(long step) {
        double nats = 0;
        long scored = 0;
        try (NoGradient off = NoGradient.scope()) {
            for (int from = 0; from < validation.size(); from += o.batchSize) {
                int to = Math.min(validation.size(), from + o.batchSize);
                List<ImageTextSequence> batch = new ArrayList<>();
                long batchScored = 0;
                for (int i = from; i < to; i++) {
                    batch.add(validation.get(i));
                    batchScored += validation.scoredTokens(i);
                }
                try (NDManager scratch = model.languageModel().manager().newSubManager()) {
                    nats += model.block().loss(scratch, batch).getFloat() * batchScored;
                }
                scored += batchScored;
            }
        }
        double loss = nats / scored;
        return new Evaluation(step, loss, Math.exp(loss));
    }

    @Override
    public void close() {
        trainable.release();
        optimizer.close();
    }
}
