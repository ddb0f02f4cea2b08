package org.llmkit.data.spark.bench;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.sql.SparkSession;
import org.llmkit.data.Dataset;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.spark.SparkPipeline;

/**
 * Documents/s of exact and near dedup, in-process vs Spark local[N], on generated ~1 KB documents
 * (5% exact copies, 5% near copies), written as several JSON Lines files (one Spark task each).
 * Not a test; run it on an idle machine (see llm-spark/README.md, "Benchmark").
 *
 * <pre>
 * DedupBenchmark --documents 1000000 --files 16 --threads 2 [--dir DIR]
 * </pre>
 */
public final class DedupBenchmark {

    private DedupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int documents = 20_000;
        int files = 8;
        int threads = 2;
        Path dir = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--documents" -> documents = Integer.parseInt(args[i + 1]);
                case "--files" -> files = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --documents N --files N --threads N --dir DIR");
            }
        }
        dir = dir == null ? Files.createTempDirectory("llm-spark-bench") : dir;
        Path corpus = dir.resolve("corpus");
        long bytes = generate(corpus, documents, files);
        System.out.printf(Locale.ROOT, "corpus: %,d documents, %,d files, %.1f MB, %d threads / local[%d]%n",
                documents, files, bytes / 1e6, threads, threads);
        String input = corpus.toString();
        int t = threads;
        List<String> rows = new ArrayList<>();
        try (SparkSession spark = SparkSession.builder().master("local[" + threads + "]").appName("dedup-benchmark")
                .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g").getOrCreate()) {
            for (String kind : List.of("exact", "near")) {
                Pipeline local = build(input, kind, t);
                long start = System.nanoTime();
                PipelineReport a = local.writeTo(dir.resolve("local-" + kind));
                double inProcess = (System.nanoTime() - start) / 1e9;
                start = System.nanoTime();
                PipelineReport b = SparkPipeline.on(spark).run(() -> build(input, kind, t), dir.resolve("spark-" + kind).toString());
                double distributed = (System.nanoTime() - start) / 1e9;
                if (a.documentsOut() != b.documentsOut()) {
                    throw new IllegalStateException(kind + ": in-process kept " + a.documentsOut() + ", Spark "
                            + b.documentsOut());
                }
                rows.add(String.format(Locale.ROOT, "| %s dedup | %,.0f | %,.0f | %,d |", kind, documents / inProcess,
                        documents / distributed, a.documentsIn() - a.documentsOut()));
            }
        }
        System.out.println("| stage | in-process documents/s | Spark local documents/s | dropped (both) |");
        System.out.println("|---|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    static Pipeline build(String input, String kind, int threads) {
        Pipeline p = Pipeline.from(Dataset.jsonl(Path.of(input))).threads(threads);
        return kind.equals("exact") ? p.dedup() : p.nearDedup(0.8);
    }

    /** ~1 KB documents of random words; 5% exact copies and 5% copies with one word changed. */
    static long generate(Path folder, int documents, int files) throws Exception {
        Files.createDirectories(folder);
        Random random = new Random(1);
        String[] vocabulary = new String[20_000];
        for (int i = 0; i < vocabulary.length; i++) {
            char[] c = new char[3 + random.nextInt(7)];
            for (int j = 0; j < c.length; j++) {
                c[j] = (char) ('a' + random.nextInt(26));
            }
            vocabulary[i] = new String(c);
        }
        List<String> recent = new ArrayList<>();
        long bytes = 0;
        int perFile = (documents + files - 1) / files;
        int written = 0;
        for (int f = 0; f < files && written < documents; f++) {
            try (BufferedWriter out = Files.newBufferedWriter(folder.resolve(String.format("part-%04d.jsonl", f)),
                    StandardCharsets.UTF_8)) {
                for (int i = 0; i < perFile && written < documents; i++, written++) {
                    String text;
                    int kind = random.nextInt(20);
                    if (kind == 0 && !recent.isEmpty()) {
                        text = recent.get(random.nextInt(recent.size()));
                    } else if (kind == 1 && !recent.isEmpty()) {
                        String[] w = recent.get(random.nextInt(recent.size())).split(" ");
                        w[random.nextInt(w.length)] = "changed";
                        text = String.join(" ", w);
                    } else {
                        StringBuilder b = new StringBuilder();
                        while (b.length() < 1000) {
                            b.append(vocabulary[random.nextInt(vocabulary.length)]).append(' ');
                        }
                        text = b.toString().strip();
                        if (recent.size() < 1000) {
                            recent.add(text);
                        } else {
                            recent.set(random.nextInt(recent.size()), text);
                        }
                    }
                    String line = "{\"text\":\"" + text + "\"}\n";
                    out.write(line);
                    bytes += line.length();
                }
            }
        }
        return bytes;
    }
}
