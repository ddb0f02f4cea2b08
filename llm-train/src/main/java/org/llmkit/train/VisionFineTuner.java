package org.llmkit.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.data.ImageTextDataset;

/**
 * Fine-tunes a {@link VisionLanguageModel} on image-text pairs (captions, visual question answering): the
 * multi-modal projector (the default), a LoRA adapter on the language model, or both; the vision tower stays frozen.
 * Each example is its prompt (image placeholders expanded) followed by the target text and EOS; the loss is the
 * mean next-token cross-entropy over the target text and EOS only.
 *
 * <pre>{@code
 * TrainingResult r = VisionFineTuner.of(vlm).lora(8, 16, "q_proj", "v_proj")       // + the projector
 *         .learningRate(2e-4).batchSize(8).epochs(1)
 *         .evaluateEvery(100, ImageTextDataset.jsonl(Path.of("val.jsonl")))
 *         .train(ImageTextDataset.jsonl(Path.of("train.jsonl")));
 * vlm.languageModel().saveAdapter(Path.of("adapter"));                              // PEFT format
 * }</pre>
 *
 * <p>Immutable like {@link FineTuner}: every setter checks its value and returns a new instance; {@link #train}
 * checks combinations and tokenizes the data before any work, then trains the model in place. Defaults follow
 * {@link FineTuner}'s (AdamW, lr 5e-5, linear schedule, clipping at 1, 3 epochs, batch 8, seed 42).
 */
public final class VisionFineTuner {
    private final VisionLanguageModel model;
    private final TrainingOptions options;
    private final boolean projector;
    private final ImageTextDataset validation;

    private VisionFineTuner(VisionLanguageModel model, TrainingOptions options, boolean projector,
            ImageTextDataset validation) {
        this.model = model;
        this.options = options;
        this.projector = projector;
        this.validation = validation;
    }

    /**
     * Starts configuring a run: by default the projector alone is trained.
     *
     * @param model the model to train (it needs a tokenizer)
     * @return a fine-tuner with default settings
     */
    public static VisionFineTuner of(VisionLanguageModel model) {
        return new VisionFineTuner(Objects.requireNonNull(model, "model"), new TrainingOptions(), true, null);
    }

    private VisionFineTuner with(Consumer<TrainingOptions> change) {
        TrainingOptions copy = options.copy();
        change.accept(copy);
        return new VisionFineTuner(model, copy, projector, validation);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * @param train whether the multi-modal projector is trained (default true)
     * @return a copy with it
     */
    public VisionFineTuner projector(boolean train) {
        return new VisionFineTuner(model, options, train, validation);
    }

    /**
     * Trains a LoRA adapter on the language model (its base weights stay frozen), besides the projector unless
     * {@code projector(false)}. On a language model that already carries an adapter, that adapter is trained.
     *
     * @param rank r, &gt;= 1
     * @param alpha lora_alpha, &gt; 0
     * @param targetModules module names matched as suffixes, e.g. {@code q_proj}, at least one
     * @return a copy with it
     */
    public VisionFineTuner lora(int rank, double alpha, String... targetModules) {
        return with(o -> o.setLora(rank, alpha, targetModules));
    }

    /**
     * @param lr the peak learning rate, &gt; 0 and finite
     * @return a copy with it
     */
    public VisionFineTuner learningRate(double lr) {
        return with(o -> o.setLearningRate(lr));
    }

    /**
     * @param weightDecay decoupled weight decay, &gt;= 0 (0 = off, the default)
     * @return a copy with it
     */
    public VisionFineTuner weightDecay(double weightDecay) {
        return with(o -> o.setWeightDecay(weightDecay));
    }

    /**
     * @param schedule the learning-rate shape after warmup
     * @return a copy with it
     */
    public VisionFineTuner schedule(Schedule schedule) {
        return with(o -> o.setSchedule(schedule));
    }

    /**
     * @param steps optimizer steps of linear warmup from 0, &gt;= 0
     * @return a copy with it
     */
    public VisionFineTuner warmupSteps(long steps) {
        return with(o -> o.setWarmupSteps(steps));
    }

    /**
     * @param maxNorm the global gradient-norm threshold, &gt;= 0; 0 turns clipping off
     * @return a copy with it
     */
    public VisionFineTuner gradientClipping(double maxNorm) {
        return with(o -> o.setGradientClipping(maxNorm));
    }

    /**
     * @param epochs passes over the training data, &gt;= 1 (ignored when {@link #maxSteps} is set)
     * @return a copy with it
     */
    public VisionFineTuner epochs(int epochs) {
        return with(o -> o.setEpochs(epochs));
    }

    /**
     * @param steps the number of optimizer steps, &gt;= 1; overrides {@link #epochs} (data repeats as needed)
     * @return a copy with it
     */
    public VisionFineTuner maxSteps(long steps) {
        return with(o -> o.setMaxSteps(steps));
    }

    /**
     * @param size examples per step, &gt;= 1
     * @return a copy with it
     */
    public VisionFineTuner batchSize(int size) {
        return with(o -> o.setBatchSize(size));
    }

    /**
     * @param shuffle whether each epoch visits the examples in a seeded random order (default true)
     * @return a copy with it
     */
    public VisionFineTuner shuffle(boolean shuffle) {
        return with(o -> o.shuffle = shuffle);
    }

    /**
     * @param seed the seed of data order and LoRA initialisation (default 42)
     * @return a copy with it
     */
    public VisionFineTuner seed(long seed) {
        return with(o -> o.seed = seed);
    }

    /**
     * @param everySteps evaluate after every this many steps (and before the first and after the last), &gt;= 1
     * @param heldOut the held-out image-text pairs; the result's evaluations hold their loss and perplexity
     * @return a copy with it
     */
    public VisionFineTuner evaluateEvery(long everySteps, ImageTextDataset heldOut) {
        check(everySteps >= 1, "evaluateEvery must be >= 1, was " + everySteps);
        Objects.requireNonNull(heldOut, "heldOut");
        TrainingOptions copy = options.copy();
        copy.evaluateEvery = everySteps;
        return new VisionFineTuner(model, copy, projector, heldOut);
    }

    /**
     * @param dir folder for {@code metrics.jsonl} and {@code loss.png}
     * @return a copy with it
     */
    public VisionFineTuner logTo(Path dir) {
        return with(o -> o.setLogDir(dir));
    }

    /**
     * @param everySteps write a progress line to the log every this many steps, &gt;= 1
     * @return a copy with it
     */
    public VisionFineTuner logEvery(long everySteps) {
        return with(o -> o.setLogEvery(everySteps));
    }

    /**
     * @param listener receives every step and evaluation; listeners add up
     * @return a copy with it
     */
    public VisionFineTuner listener(TrainingListener listener) {
        return with(o -> o.addListener(listener));
    }

    /**
     * Checks the settings and tokenizes the data, then trains.
     *
     * @param train the training pairs
     * @return losses, gradient norms, learning rates, held-out evaluations and throughput
     * @throws IllegalArgumentException when nothing would be trained, or an example does not fit the model (the
     *     message names it), before any work
     * @throws IllegalStateException when the model has no tokenizer
     * @throws IOException when writing metrics fails
     * @throws java.io.UncheckedIOException when an image cannot be read during training (the message names it)
     */
    public TrainingResult train(ImageTextDataset train) throws IOException {
        Objects.requireNonNull(train, "train");
        boolean lora = options.loraRequested() || model.languageModel().adapter().isPresent();
        if (!projector && !lora) {
            throw new IllegalArgumentException("nothing to train: projector(false) without lora(...); train the"
                    + " projector, a LoRA adapter on the language model, or both");
        }
        if (!model.hasTokenizer()) {
            throw new IllegalStateException("training on image-text pairs needs a tokenizer; load the model with"
                    + " VisionLanguageModel.from(dir).tokenizer(path)");
        }
        VisionExamples examples = new VisionExamples(model, train, "training data");
        VisionExamples heldOut = validation == null ? null : new VisionExamples(model, validation, "validation data");
        try (VisionTrainingRun run = VisionTrainingRun.prepare(model, options, projector, examples, heldOut,
                options.evaluateEvery)) {
            return run.run();
        }
    }
}
