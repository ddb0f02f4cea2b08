package org.llmkit.samples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.llmkit.api.Tokenizer;
import org.llmkit.data.Dataset;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.QualityRules;
import org.llmkit.data.WordListToxicityScorer;
import org.llmkit.samples.bundled.BpeTrainer;
import org.llmkit.samples.bundled.BundledCorpus;

/**
 * Cleans a corpus and turns it into training data: normalize, exact and near dedup, language, quality and
 * toxicity filters, tokenize, pack, split into train and validation token shards, with a report of what each
 * stage dropped and why.
 *
 * <pre>
 * java -jar llmkit-samples.jar data                                   # bundled stories, BPE trained on them
 * java -jar llmkit-samples.jar data --input dump.jsonl.zst --tokenizer ~/models/Llama-3.1-8B --seq-len 2048
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * PipelineReport r = Pipeline.from(Dataset.jsonl(Path.of("dump.jsonl.zst")))
 *         .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher())
 *         .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
 *         .tokenize(tokenizer, true).pack(2048).split(0.95)
 *         .writeTo(Path.of("data"));        // data/train, data/validation, report.json, report.md
 * }</pre>
 */
public final class DataSample {
    private DataSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when reading or writing fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -jar llmkit-samples.jar data [options]", argv)
                .describe("input", "JSONL file (text in field \"text\"; .gz/.zst fine) or a folder/file of plain "
                        + "text (default: bundled stories)")
                .describe("text-field", "JSONL field holding the text (default text)")
                .describe("stories", "bundled stories to generate when there is no --input (default 2000)")
                .describe("tokenizer", "tokenizer folder (default: train a 1,024-token BPE on the corpus)")
                .describe("seq-len", "tokens per packed sequence (default 128)")
                .describe("near-dup", "near-duplicate Jaccard threshold (default 0.8)")
                .describe("lang", "language to keep, ISO 639-1 (default en)")
                .describe("train-fraction", "share of documents for training (default 0.9)")
                .describe("threads", "worker threads (default: all processors)")
                .describe("out", "output folder, must not hold earlier output (default runs/data)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        Path out = Path.of(args.string("out", "runs/data"));
        Files.createDirectories(out);
        Dataset source;
        Path input = args.path("input");
        List<BundledCorpus.Doc> bundled = null;
        if (input == null) {
            bundled = BundledCorpus.generate(args.integer("stories", 2000), 42);
            Path corpus = out.resolve("corpus.jsonl");
            BundledCorpus.writeJsonl(bundled, corpus);
            System.out.printf("wrote %,d bundled documents to %s%n", bundled.size(), corpus);
            source = Dataset.jsonl(corpus);
        } else if (Files.isDirectory(input) || input.toString().endsWith(".txt")) {
            source = Dataset.text(input);
        } else {
            source = Dataset.jsonl(input).textField(args.string("text-field", "text"));
        }

        Path tokenizerDir = args.path("tokenizer");
        if (tokenizerDir == null) {
            if (bundled == null) {
                throw new IllegalArgumentException("--tokenizer DIR is required with --input (the bundled BPE is "
                        + "trained on the bundled stories only)");
            }
            tokenizerDir = BpeTrainer.vocabularySize(1024).train(bundled.stream().map(BundledCorpus.Doc::text)
                    .toList()).writeTokenizer(out.resolve("tokenizer"));
            System.out.println("trained a byte-level BPE tokenizer -> " + tokenizerDir);
        }
        try (Tokenizer tokenizer = Tokenizer.load(tokenizerDir)) {
            Pipeline pipeline = Pipeline.from(source)
                    .normalize()
                    .dedup()
                    .nearDedup(args.number("near-dup", 0.8))
                    .language(args.string("lang", "en"))
                    .quality(QualityRules.gopher())
                    .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5)
                    .tokenize(tokenizer, true)
                    .pack(args.integer("seq-len", 128))
                    .split(args.number("train-fraction", 0.9))
                    .progressEvery(Duration.ofSeconds(5));
            if (args.string("threads", null) != null) {
                pipeline = pipeline.threads(args.integer("threads", 1));
            }
            PipelineReport report = pipeline.writeTo(out.resolve("data"));
            System.out.println(report.toMarkdown());
            System.out.printf(Locale.ROOT, "token shards, report.json, report.md and token-lengths.png -> %s%n",
                    out.resolve("data"));
        }
    }
}
