package org.llmkit.samples.plan;

import java.nio.file.Path;

/**
 * What {@link Plan} does at each step. {@link #defaults()} is the full run (about 5 minutes on 2 cores),
 * {@link #quick()} a reduced one for tests (well under a minute of training).
 *
 * @param stories bundled stories to generate, &gt;= 50 (noise documents come on top)
 * @param seed the seed of the corpus, the split, the initial weights and data order
 * @param vocabularySize size of the BPE vocabulary trained on the corpus, in [512, 65536]; unused with a base
 *     model, which brings its tokenizer
 * @param sequenceLength tokens per packed training sequence, in [16, 4096]
 * @param hiddenSize hidden size of the model trained from scratch, a multiple of {@code heads}
 * @param layers decoder layers of the model trained from scratch, &gt;= 1
 * @param heads attention heads of the model trained from scratch, &gt;= 1
 * @param kvHeads key/value heads (grouped-query attention), dividing {@code heads}
 * @param steps optimizer steps, &gt;= 1
 * @param batchSize sequences per step, &gt;= 1
 * @param learningRate peak AdamW learning rate, in (0, 1)
 * @param evaluateEvery steps between validation measurements, &gt;= 1
 * @param validationSequences at most this many validation sequences are used during training, &gt;= 1
 * @param taskExamples examples per multiple-choice task, &gt;= 1
 * @param latencyPrompts prompts timed for latency, &gt;= 1
 * @param latencyTokens new tokens generated per timed prompt, &gt;= 2
 * @param baseModel a HuggingFace model folder to fine-tune instead of training from scratch, or null
 * @param tokenizer a tokenizer folder for a base model that has none, or null
 * @param loraRank LoRA rank for fine-tuning a base model (alpha = 2 x rank, on q/k/v/o projections), or 0 for
 *     full fine-tuning; must be 0 when training from scratch
 * @param device {@code cpu} or {@code gpu}
 */
public record PlanSettings(int stories, long seed, int vocabularySize, int sequenceLength, int hiddenSize, int layers,
        int heads, int kvHeads, long steps, int batchSize, double learningRate, long evaluateEvery,
        int validationSequences, int taskExamples, int latencyPrompts, int latencyTokens, Path baseModel,
        Path tokenizer, int loraRank, String device) {

    /**
     * Checks every value; the message names the option and its allowed range.
     *
     * @param stories see the record description
     * @param seed see the record description
     * @param vocabularySize see the record description
     * @param sequenceLength see the record description
     * @param hiddenSize see the record description
     * @param layers see the record description
     * @param heads see the record description
     * @param kvHeads see the record description
     * @param steps see the record description
     * @param batchSize see the record description
     * @param learningRate see the record description
     * @param evaluateEvery see the record description
     * @param validationSequences see the record description
     * @param taskExamples see the record description
     * @param latencyPrompts see the record description
     * @param latencyTokens see the record description
     * @param baseModel see the record description
     * @param tokenizer see the record description
     * @param loraRank see the record description
     * @param device see the record description
     */
    public PlanSettings {
        check(stories >= 50, "stories must be >= 50, was " + stories);
        check(vocabularySize >= 512 && vocabularySize <= 65_536,
                "vocabulary size must be in [512, 65536], was " + vocabularySize);
        check(sequenceLength >= 16 && sequenceLength <= 4096,
                "sequence length must be in [16, 4096], was " + sequenceLength);
        check(heads >= 1 && hiddenSize >= heads && hiddenSize % heads == 0,
                "hidden size (" + hiddenSize + ") must be a positive multiple of heads (" + heads + ")");
        check(kvHeads >= 1 && heads % kvHeads == 0, "kv heads (" + kvHeads + ") must divide heads (" + heads + ")");
        check(layers >= 1, "layers must be >= 1, was " + layers);
        check(steps >= 1, "steps must be >= 1, was " + steps);
        check(batchSize >= 1, "batch size must be >= 1, was " + batchSize);
        check(learningRate > 0 && learningRate < 1, "learning rate must be in (0, 1), was " + learningRate);
        check(evaluateEvery >= 1, "evaluate-every must be >= 1, was " + evaluateEvery);
        check(validationSequences >= 1, "validation sequences must be >= 1, was " + validationSequences);
        check(taskExamples >= 1, "task examples must be >= 1, was " + taskExamples);
        check(latencyPrompts >= 1, "latency prompts must be >= 1, was " + latencyPrompts);
        check(latencyTokens >= 2, "latency tokens must be >= 2, was " + latencyTokens);
        check(loraRank >= 0, "LoRA rank must be >= 0, was " + loraRank);
        check(baseModel != null || loraRank == 0,
                "LoRA adapts an existing model: pass --model DIR with --lora (from scratch every weight trains)");
        check(baseModel != null || tokenizer == null, "--tokenizer goes with --model; from scratch the plan trains "
                + "its own tokenizer");
        check("cpu".equals(device) || "gpu".equals(device), "device must be cpu or gpu, was " + device);
    }

    /**
     * The full run: 5,000 stories, a 1,024-token BPE, a 4-layer Llama of hidden size 128 (0.9 M parameters)
     * trained for 1,600 steps of 8 x 128 tokens (about 4 minutes of the 5 on 2 cores). Around step 1,000 the model
     * learns to carry a story's names forward: validation loss drops from about 0.70 to 0.54 and the
     * {@code story_hero} task goes from chance to nearly always right.
     *
     * @return the settings
     */
    public static PlanSettings defaults() {
        return new PlanSettings(5000, 42, 1024, 128, 128, 4, 4, 2, 1600, 8, 3e-3, 200, 128, 100, 4, 32, null, null,
                0, "cpu");
    }

    /**
     * The reduced run for tests: 400 stories, a 512-token BPE, a 2-layer Llama of hidden size 64 trained for
     * 30 steps of 8 x 64 tokens.
     *
     * @return the settings
     */
    public static PlanSettings quick() {
        return new PlanSettings(400, 42, 512, 64, 64, 2, 4, 2, 30, 8, 3e-3, 10, 32, 20, 2, 8, null, null, 0,
                "cpu");
    }

    /**
     * Returns whether the plan trains a new model (rather than fine-tuning {@link #baseModel()}).
     *
     * @return true from scratch
     */
    public boolean fromScratch() {
        return baseModel == null;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
