package org.llmkit.data.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.llmkit.api.Tokenizer;
import org.llmkit.data.Dataset;
import org.llmkit.data.NearDedup;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Throughput of llm-data on a generated corpus (not a unit test). Writes a JSONL corpus of about
 * 1 KB documents (5% exact copies, 5% near-copies), then prints documents/s for: reading alone,
 * exact dedup, near-dedup (128 permutations), tokenization through the pipeline (tokenize + pack
 * + shard writing), and DJL's {@code HuggingFaceTokenizer.encode} called directly on the same texts
 * by the same number of threads (texts already in memory, so it measures encoding alone); then
 * the peak RSS of the process.
 *
 * <pre>
 * mvn -q -f llm-data/pom.xml test-compile exec:java -Dexec.args="--mb 200 --threads 2"
 * </pre>
 * Options: {@code --mb} corpus size (default 200), {@code --threads} (default: processors),
 * {@code --tokenizer} a tokenizer folder (default shared/fixtures/hf-tiny/tokenizer),
 * {@code --dir} work folder (default a temporary one, deleted at the end).
 */
public final class PipelineBenchmark {

    private PipelineBenchmark() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class description
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int mb = 200;
        int threads = Runtime.getRuntime().availableProcessors();
        Path tokenizerFolder = null;
        Path dir = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--mb" -> mb = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--tokenizer" -> tokenizerFolder = Path.of(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --mb N --threads N --tokenizer DIR --dir DIR");
            }
        }
        if (tokenizerFolder == null) {
            tokenizerFolder = findFixtureTokenizer();
        }
        boolean temporary = dir == null;
        dir = temporary ? Files.createTempDirectory("llm-data-bench") : Files.createDirectories(dir);
        Path corpus = dir.resolve("corpus.jsonl");
        long start = System.nanoTime();
        long docs = generate(corpus, (long) mb << 20);
        System.out.printf(Locale.ROOT, "corpus: %,d documents, %,d MB, generated in %.1f s; threads %d%n", docs,
                Files.size(corpus) >> 20, (System.nanoTime() - start) / 1e9, threads);

        Dataset data = Dataset.jsonl(corpus);
        print("read only", Pipeline.from(data).threads(threads).run(d -> { }));
        print("exact dedup", Pipeline.from(data).dedup().threads(threads).run(d -> { }));
        print("near dedup (128 perm.)", Pipeline.from(data).nearDedup(NearDedup.builder().threshold(0.8)
                .permutations(128).build()).threads(threads).run(d -> { }));
        try (Tokenizer tokenizer = Tokenizer.load(tokenizerFolder)) {
            PipelineReport tokenized = Pipeline.from(data).tokenize(tokenizer).pack(2048).threads(threads)
                    .writeTo(dir.resolve("tokens"));
            print("tokenize+pack+write (pipeline)", tokenized);
            double pipelineRate = tokenized.documentsIn() / tokenized.seconds();
            double directRate = direct(corpus, tokenizerFolder, threads);
            System.out.printf(Locale.ROOT, "%-32s %,12.0f docs/s%n", "HuggingFaceTokenizer direct", directRate);
            System.out.printf(Locale.ROOT, "pipeline / direct tokenization: %.2f%n", pipelineRate / directRate);
        }
        System.out.println("peak RSS: " + peakRss());
        if (temporary) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void print(String name, PipelineReport report) {
        System.out.printf(Locale.ROOT, "%-32s %,12.0f docs/s  (%,d in, %,d out, %.1f s)%n", name,
                report.documentsIn() / report.seconds(), report.documentsIn(), report.documentsOut(), report.seconds());
    }

    /** Encodes every text of the corpus with DJL directly, on {@code threads} threads; times only the encoding. */
    private static double direct(Path corpus, Path tokenizerFolder, int threads) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long nanos = 0;
        long docs = 0;
        AtomicLong tokens = new AtomicLong();
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(
                tokenizerFolder.resolve("tokenizer.json"), options);
             BufferedReader reader = Files.newBufferedReader(corpus, StandardCharsets.UTF_8)) {
            List<String> chunk = new ArrayList<>();
            for (String line; ; ) {
                line = reader.readLine();
                if (line != null) {
                    chunk.add((String) json.readValue(line, Map.class).get("text"));
                }
                if (chunk.size() == 16_384 || line == null && !chunk.isEmpty()) {
                    List<String> texts = List.copyOf(chunk);
                    chunk.clear();
                    long start = System.nanoTime();
                    List<Future<?>> futures = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        int from = texts.size() * t / threads;
                        int to = texts.size() * (t + 1) / threads;
                        futures.add(pool.submit(() -> {
                            for (int i = from; i < to; i++) {
                                tokens.addAndGet(tokenizer.encode(texts.get(i), false, false).getIds().length);
                            }
                        }));
                    }
                    for (Future<?> f : futures) {
                        f.get();
                    }
                    nanos += System.nanoTime() - start;
                    docs += texts.size();
                }
                if (line == null) {
                    break;
                }
            }
        } finally {
            pool.shutdown();
        }
        return docs / (nanos / 1e9);
    }

    /** Writes ~1 KB English-like documents; 5% are exact copies and 5% near-copies of earlier ones. */
    private static long generate(Path file, long bytes) throws IOException {
        String[] vocabulary = new String[5000];
        Random random = new Random(1);
        for (int i = 0; i < vocabulary.length; i++) {
            char[] chars = new char[2 + random.nextInt(8)];
            for (int c = 0; c < chars.length; c++) {
                chars[c] = (char) ('a' + random.nextInt(26));
            }
            vocabulary[i] = new String(chars);
        }
        ObjectMapper json = new ObjectMapper();
        List<String> recent = new ArrayList<>();
        long written = 0;
        long docs = 0;
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            while (written < bytes) {
                String text;
                int roll = random.nextInt(100);
                if (roll < 5 && !recent.isEmpty()) {
                    text = recent.get(random.nextInt(recent.size()));
                } else if (roll < 10 && !recent.isEmpty()) {
                    String[] words = recent.get(random.nextInt(recent.size())).split(" ");
                    words[random.nextInt(words.length)] = vocabulary[random.nextInt(vocabulary.length)];
                    text = String.join(" ", words);
                } else {
                    StringBuilder b = new StringBuilder(1100);
                    while (b.length() < 1000) {
                        // Zipf-like: frequent words are short and common
                        int rank = (int) Math.min(vocabulary.length - 1, Math.exp(random.nextDouble() * Math.log(vocabulary.length)));
                        b.append(vocabulary[rank]).append(random.nextInt(12) == 0 ? ". " : " ");
                    }
                    text = b.toString().strip();
                    if (recent.size() < 1000) {
                        recent.add(text);
                    } else {
                        recent.set(random.nextInt(recent.size()), text);
                    }
                }
                String line = json.writeValueAsString(Map.of("text", text, "id", Long.toString(docs)));
                out.write(line);
                out.write('\n');
                written += line.length() + 1;
                docs++;
            }
        }
        return docs;
    }

    private static String peakRss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return line.substring(6).strip();
            }
        }
        return "unknown (no /proc/self/status)";
    }

    private static Path findFixtureTokenizer() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/fixtures/hf-tiny/tokenizer");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no --tokenizer given and shared/fixtures/hf-tiny/tokenizer not found");
    }
}
