package org.llmkit.samples;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entry point of the samples jar: {@code java -jar llmkit-samples.jar <command> [--options]}. Each command is
 * one small program in this package; {@code <command> --help} lists its options.
 */
public final class Main {
    /** A sample program. */
    @FunctionalInterface
    interface Command {
        void run(String[] args) throws Exception;
    }

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();
    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();

    static {
        register("plan", PlanSample::main, "the whole plan on bundled data: corpus, pipeline, training, eval, serving");
        register("generate", GenerateSample::main, "load a HuggingFace model folder and generate text");
        register("chat", ChatSample::main, "chat with a model through its chat template");
        register("data", DataSample::main, "clean, dedup, filter, tokenize and pack a corpus into token shards");
        register("finetune", FineTuneSample::main, "full or LoRA fine-tuning on token shards or bundled stories");
        register("eval", EvalSample::main, "perplexity, multiple-choice tasks and latency into a report");
        register("serve", ServeSample::main, "serve a model over an OpenAI-compatible HTTP API");
        register("memory", MemorySample::main, "memory needed to fine-tune, by ZeRO stage, devices and offload");
        register("caption", CaptionSample::main, "caption an image with a LLaVA model folder");
        register("bench", DecodeBenchmark::main, "prefill / decode tokens-per-second benchmark");
    }

    private Main() { }

    private static void register(String name, Command c, String description) {
        COMMANDS.put(name, c);
        DESCRIPTIONS.put(name, description);
    }

    /**
     * Runs a sample.
     *
     * @param args the command name, then its options
     * @throws Exception when the sample fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            StringBuilder b = new StringBuilder("usage: java -jar llmkit-samples.jar <command> [--help]\n\ncommands:\n");
            DESCRIPTIONS.forEach((k, v) -> b.append(String.format("  %-10s %s%n", k, v)));
            System.out.print(b);
            if (args.length > 0) {
                System.err.println("unknown command '" + args[0] + "'");
                System.exit(2);
            }
            return;
        }
        try {
            COMMANDS.get(args[0]).run(Arrays.copyOfRange(args, 1, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }
}
