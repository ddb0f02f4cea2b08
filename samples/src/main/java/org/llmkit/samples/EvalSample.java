package org.llmkit.samples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.Dataset;
import org.llmkit.eval.EvalReport;
import org.llmkit.eval.Evaluator;
import org.llmkit.eval.Glue;
import org.llmkit.samples.bundled.StoryCorpus;
import org.llmkit.samples.bundled.StoryTasks;
import org.llmkit.samples.plan.Latency;

/**
 * Evaluates a model: perplexity on held-out text, multiple-choice tasks scored by log-likelihood (the bundled
 * story tasks, GLUE MRPC/RTE when their folders are given) and generation latency; writes a JSON and a Markdown
 * report.
 *
 * <pre>
 * java -jar llmkit-samples.jar eval                                   # the plan's model on fresh stories
 * java -jar llmkit-samples.jar eval --model ~/models/Llama-3.1-8B --text heldout.jsonl --mrpc ~/glue/MRPC \
 *      --context 2048 --stride 1024 --device gpu
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * EvalReport r = Evaluator.of(model).perplexity(Dataset.jsonl(Path.of("heldout.jsonl"))).contextLength(2048)
 *         .task(Glue.mrpc(Path.of("glue/MRPC"))).run();
 * r.metric("mrpc", "f1");
 * r.writeTo(Path.of("runs/eval"));          // report.json + report.md
 * }</pre>
 */
public final class EvalSample {
    private EvalSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading, reading or writing fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = ModelOptions.describe(new Args("java -jar llmkit-samples.jar eval [options]", argv))
                .describe("text", "held-out JSONL file (field \"text\") or plain-text folder/file for perplexity "
                        + "(default: 200 fresh bundled stories)")
                .describe("context", "perplexity window in tokens (default: the model's maximum)")
                .describe("stride", "perplexity stride in tokens (default: the window)")
                .describe("examples", "examples per bundled story task, 0 for none (default 100)")
                .describe("mrpc", "GLUE MRPC folder (dev.tsv) to add the mrpc task")
                .describe("rte", "GLUE RTE folder (dev.tsv) to add the rte task")
                .describe("latency-prompts", "prompts to time, 0 for none (default 4)")
                .describe("latency-tokens", "new tokens per timed prompt (default 32)")
                .describe("out", "report folder (default runs/eval)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        try (LanguageModel model = ModelOptions.load(args)) {
            Evaluator evaluator = Evaluator.of(model).perplexity(heldOut(args.path("text")));
            if (args.string("context", null) != null) {
                evaluator = evaluator.contextLength(args.integer("context", 0));
            }
            if (args.string("stride", null) != null) {
                evaluator = evaluator.stride(args.integer("stride", 0));
            }
            int examples = args.integer("examples", 100);
            if (examples > 0) {
                evaluator = evaluator.task(StoryTasks.nextSentence(examples, 99)).task(StoryTasks.hero(examples, 99));
            }
            if (args.path("mrpc") != null) {
                evaluator = evaluator.task(Glue.mrpc(args.path("mrpc")));
            }
            if (args.path("rte") != null) {
                evaluator = evaluator.task(Glue.rte(args.path("rte")));
            }
            EvalReport report = evaluator.run();
            int prompts = args.integer("latency-prompts", 4);
            if (prompts > 0) {
                Map<String, Map<String, Double>> results = new LinkedHashMap<>(report.results());
                List<String> texts = StoryCorpus.seeded(5).stories(prompts).stream()
                        .map(s -> s.substring(0, s.indexOf(' ', 20))).toList();
                results.put("latency", Latency.measure(model, texts, args.integer("latency-tokens", 32)));
                report = new EvalReport(report.model(), results);
            }
            Path out = Path.of(args.string("out", "runs/eval"));
            report.writeTo(out);
            System.out.print(report.toMarkdown());
            System.out.println("report.json and report.md -> " + out);
        }
    }

    private static Dataset heldOut(Path text) {
        if (text == null) {
            return Dataset.of(StoryCorpus.seeded(99).stories(200));
        }
        return Files.isDirectory(text) || text.toString().endsWith(".txt") ? Dataset.text(text) : Dataset.jsonl(text);
    }
}
