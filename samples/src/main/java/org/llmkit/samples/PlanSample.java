package org.llmkit.samples;

import java.nio.file.Path;
import org.llmkit.samples.plan.Plan;
import org.llmkit.samples.plan.PlanSettings;

/**
 * The whole plan in one command: corpus, pipeline, training, evaluation, serving, on bundled data.
 *
 * <pre>
 * java -jar llmkit-samples.jar plan                        # ~5 minutes on 2 cores, writes runs/plan
 * java -jar llmkit-samples.jar plan --quick --out /tmp/p   # a reduced run, under a minute of training
 * java -jar llmkit-samples.jar plan --model ~/models/Llama-3.2-1B --lora 8 --steps 100 --device gpu
 * </pre>
 */
public final class PlanSample {
    /** The default run folder; the other samples look for the trained model in its {@code model/}. */
    public static final Path DEFAULT_OUT = Path.of("runs", "plan");

    private PlanSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when a step fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -jar llmkit-samples.jar plan [options]\n\n"
                + "Builds a corpus of bundled stories, cleans and tokenizes it, trains a small Llama from scratch\n"
                + "(or fine-tunes --model), evaluates it, serves it and sends one chat request; everything lands\n"
                + "in the run folder (summary.md lists it).", argv)
                .describe("out", "run folder, must be empty or absent (default " + DEFAULT_OUT + ")")
                .describe("quick", "reduced run for tests and a first look (400 stories, 30 steps)")
                .describe("stories", "bundled stories to generate (default 5000; quick 400)")
                .describe("seed", "seed of corpus, split, weights and data order (default 42)")
                .describe("vocab", "BPE vocabulary size (default 1024; quick 512)")
                .describe("seq-len", "tokens per training sequence (default 128; quick 64)")
                .describe("hidden", "hidden size of the new model (default 128; quick 64)")
                .describe("layers", "decoder layers of the new model (default 4; quick 2)")
                .describe("steps", "optimizer steps (default 1600; quick 30)")
                .describe("batch", "sequences per step (default 8)")
                .describe("lr", "peak learning rate (default 3e-3)")
                .describe("eval-every", "steps between validation losses (default 200; quick 10)")
                .describe("model", "fine-tune this HuggingFace model folder instead of training from scratch")
                .describe("tokenizer", "tokenizer folder for a --model that has none")
                .describe("lora", "with --model: LoRA rank (e.g. 8) instead of full fine-tuning")
                .describe("device", "cpu (default) or gpu")
                .describe("threads", "libtorch intra-op threads (default 1: the plan's small model gains nothing from "
                        + "more, and on a busy machine idle-spinning OpenMP threads cost up to 15x)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        // read once when the PyTorch engine starts, which happens below
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(args.integer("threads", 1)));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        PlanSettings base = args.flag("quick") ? PlanSettings.quick() : PlanSettings.defaults();
        PlanSettings settings = new PlanSettings(args.integer("stories", base.stories()),
                args.integer("seed", (int) base.seed()), args.integer("vocab", base.vocabularySize()),
                args.integer("seq-len", base.sequenceLength()), args.integer("hidden", base.hiddenSize()),
                args.integer("layers", base.layers()), base.heads(), base.kvHeads(),
                args.integer("steps", (int) base.steps()), args.integer("batch", base.batchSize()),
                args.number("lr", base.learningRate()), args.integer("eval-every", (int) base.evaluateEvery()),
                base.validationSequences(), base.taskExamples(), base.latencyPrompts(), base.latencyTokens(),
                args.path("model"), args.path("tokenizer"), args.integer("lora", 0),
                args.string("device", base.device()));
        Plan.run(settings, Path.of(args.string("out", DEFAULT_OUT.toString())), System.out);
    }
}
