package org.llmkit.samples;

import java.nio.file.Path;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.Dataset;
import org.llmkit.data.Pipeline;
import org.llmkit.data.TokenDataset;
import org.llmkit.samples.bundled.StoryCorpus;
import org.llmkit.train.FineTuner;
import org.llmkit.train.Schedule;
import org.llmkit.train.TrainingResult;

/**
 * Fine-tunes a model, fully or with LoRA, on token shards from the {@code data} sample (or on bundled stories),
 * then saves the model, or the adapter in PEFT format.
 *
 * <pre>
 * java -jar llmkit-samples.jar finetune --steps 50                     # the plan's model on fresh stories
 * java -jar llmkit-samples.jar finetune --model ~/models/Llama-3.1-8B --lora 8 --data runs/data/data \
 *      --bf16 --device gpu --steps 1000 --batch 8 --grad-accum 4 --lr 2e-4
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * TrainingResult r = FineTuner.of(model).lora(8, 16, "q_proj", "v_proj")
 *         .learningRate(2e-4).warmupSteps(10).schedule(Schedule.COSINE).batchSize(8).maxSteps(1000)
 *         .evaluateEvery(100, TokenDataset.open(data.resolve("validation")))
 *         .logTo(out).train(TokenDataset.open(data.resolve("train")));
 * model.saveAdapter(out.resolve("adapter"));
 * }</pre>
 */
public final class FineTuneSample {
    private FineTuneSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading, training or saving fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = ModelOptions.describe(new Args("java -jar llmkit-samples.jar finetune [options]", argv))
                .describe("data", "pipeline output folder with train/ and validation/ token shards (default: "
                        + "1,000 fresh bundled stories tokenized in memory, 64 validation sequences)")
                .describe("seq-len", "sequence length when tokenizing the bundled stories (default 128)")
                .describe("lora", "LoRA rank (e.g. 8); omit for full fine-tuning")
                .describe("targets", "LoRA target modules, comma-separated (default q_proj,v_proj)")
                .describe("steps", "optimizer steps (default 100)")
                .describe("batch", "sequences per micro-batch (default 8)")
                .describe("grad-accum", "micro-batches per optimizer step (default 1)")
                .describe("lr", "peak learning rate (default 2e-4 with LoRA, 5e-5 without)")
                .describe("warmup", "warm-up steps (default 10% of the steps)")
                .describe("fp16", "FP16 mixed precision with loss scaling (FP32 master weights)")
                .describe("bf16", "BF16 mixed precision (FP32 master weights)")
                .describe("eval-every", "steps between validation losses (default 20)")
                .describe("checkpoint-every", "steps between resumable checkpoints in OUT/checkpoints (default off)")
                .describe("merge", "with --lora: also save the merged model in OUT/model")
                .describe("out", "output folder (default runs/finetune)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        Path out = Path.of(args.string("out", "runs/finetune"));
        int lora = args.integer("lora", 0);
        long steps = args.integer("steps", 100);
        try (LanguageModel model = ModelOptions.load(args)) {
            TokenDataset.Split data = data(args, model);
            FineTuner tuner = FineTuner.of(model)
                    .learningRate(args.number("lr", lora > 0 ? 2e-4 : 5e-5))
                    .warmupSteps(args.integer("warmup", (int) Math.max(1, steps / 10)))
                    .schedule(Schedule.COSINE)
                    .batchSize(args.integer("batch", 8))
                    .gradientAccumulation(args.integer("grad-accum", 1))
                    .maxSteps(steps)
                    .evaluateEvery(args.integer("eval-every", 20), data.validation())
                    .logTo(out);
            if (lora > 0) {
                tuner = tuner.lora(lora, 2.0 * lora, args.string("targets", "q_proj,v_proj").split(","));
            }
            if (args.flag("fp16")) {
                tuner = tuner.fp16();
            }
            if (args.flag("bf16")) {
                tuner = tuner.bf16();
            }
            if (args.string("checkpoint-every", null) != null) {
                tuner = tuner.checkpointEvery(args.integer("checkpoint-every", 100), out.resolve("checkpoints"));
            }
            TrainingResult r = tuner.train(data.train());
            System.out.printf("%d steps, %,d trainable parameters, training loss %.3f -> %.3f, validation loss "
                            + "%.3f -> %.3f, %.0f tokens/s; metrics.jsonl and loss.png -> %s%n", r.steps(),
                    r.trainableParameters(), r.losses().get(0), r.finalLoss(), r.evaluations().get(0).loss(),
                    r.evaluations().get(r.evaluations().size() - 1).loss(), r.tokensPerSecond(), out);
            if (lora > 0) {
                model.saveAdapter(out.resolve("adapter"));
                System.out.println("LoRA adapter (PEFT format) -> " + out.resolve("adapter"));
                if (args.flag("merge")) {
                    model.mergeAdapter().save(out.resolve("model"));
                    System.out.println("merged model -> " + out.resolve("model"));
                }
            } else {
                model.save(out.resolve("model"));
                System.out.println("model -> " + out.resolve("model"));
            }
        }
    }

    private static TokenDataset.Split data(Args args, LanguageModel model) throws java.io.IOException {
        Path folder = args.path("data");
        if (folder != null) {
            return new TokenDataset.Split(TokenDataset.open(folder.resolve("train")),
                    TokenDataset.open(folder.resolve("validation")));
        }
        List<String> stories = StoryCorpus.seeded(7).stories(1000);
        TokenDataset all = Pipeline.from(Dataset.of(stories)).tokenize(model.tokenizer(), true)
                .pack(args.integer("seq-len", 128)).collectTokens();
        TokenDataset.Split split = all.split(0.9, 7);
        TokenDataset validation = split.validation();
        return new TokenDataset.Split(split.train(), validation.slice(0, Math.min(64, validation.size())));
    }
}
