package org.llmkit.serve.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;
import org.llmkit.serve.LlmServer;

/**
 * Serving throughput with continuous batching, as HTTP streaming clients see it: aggregate generated tokens/s at
 * 1, 4 and 16 concurrent clients, time to first token (p50/p99) and request latency. Not a test: run it on an
 * idle machine (see benchmarks/serve-bench.sh).
 *
 * <pre>
 * java -cp ... org.llmkit.serve.bench.ServeBenchmark MODEL_DIR [SECONDS_PER_LEVEL] [MAX_TOKENS]
 * </pre>
 *
 * <p>The random benchmark models have no tokenizer; a word-level one covering the model's whole vocabulary
 * (token {@code i} is the word {@code w<i>}) is written next to the results, so every generated id is visible
 * text and the first streamed piece is the first token.
 */
public final class ServeBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ServeBenchmark() { }

    /** One request's timings. */
    record Sample(double ttft, double latency, int tokens) { }

    /**
     * @param args model folder, seconds per concurrency level (default 20), max_tokens per request (default 64)
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        Path tokenizer = Files.createTempFile("llmkit-bench-tokenizer", ".json");
        try (LanguageModel m = LanguageModel.load(model)) {
            writeWordTokenizer(tokenizer, m.config().vocabSize());
            LanguageModel served = m.withTokenizer(Tokenizer.load(tokenizer));
            engineOnly(served, maxTokens);
            try (LlmServer server = LlmServer.of(served).port(0).modelName("bench").maxBatchSize(16).maxQueue(64)
                    .start()) {
                run(server, 16, 5, maxTokens);                                // warm-up
                System.out.println("loadavg=" + Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
                System.out.println("| clients | requests | generated tokens/s | vs 1 client | TTFT p50 ms"
                        + " | TTFT p99 ms | latency p50 ms |");
                System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
                double single = 0;
                for (int clients : new int[] {1, 4, 16}) {
                    long start = System.nanoTime();
                    List<Sample> samples = run(server, clients, seconds, maxTokens);
                    double wall = (System.nanoTime() - start) / 1e9;
                    double tokS = samples.stream().mapToInt(Sample::tokens).sum() / wall;
                    if (clients == 1) {
                        single = tokS;
                    }
                    System.out.printf(Locale.ROOT, "| %d | %d | %.1f | %.2fx | %.1f | %.1f | %.1f |%n", clients,
                            samples.size(), tokS, tokS / single, pct(samples, Sample::ttft, 50) * 1e3,
                            pct(samples, Sample::ttft, 99) * 1e3, pct(samples, Sample::latency, 50) * 1e3);
                    System.out.printf(Locale.ROOT, "tok_s_%d=%.1f%n", clients, tokS);
                }
            }
        } finally {
            Files.deleteIfExists(tokenizer);
        }
    }

    /** The continuous batcher alone (no HTTP): generated tokens/s with 1, 4 and 16 sequences decoding together. */
    private static void engineOnly(LanguageModel m, int maxTokens) {
        Random r = new Random(0);
        System.out.println("| sequences in the batch (no HTTP) | generated tokens/s | vs 1 |");
        System.out.println("| --- | --- | --- |");
        double single = 0;
        for (int round = 0; round < 2; round++) {
            for (int n : new int[] {1, 4, 16}) {
                long start = System.nanoTime();
                long tokens = 0;
                try (org.llmkit.api.ContinuousBatch batch = m.continuousBatch(16, 16L * 4096)) {
                    List<int[]> done = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        int[] prompt = new int[32];
                        for (int j = 0; j < prompt.length; j++) {
                            prompt[j] = 2 + r.nextInt(1000);
                        }
                        batch.admit(m.generate(prompt).maxNewTokens(maxTokens).greedy().ignoreEos(),
                                new org.llmkit.api.generate.BatchDecoder.Listener() {
                                    @Override
                                    public void onPiece(String piece) { }

                                    @Override
                                    public void onComplete(org.llmkit.api.generate.GenerationResult result) {
                                        done.add(result.newTokens());
                                    }

                                    @Override
                                    public void onFailure(Throwable error) {
                                        throw new IllegalStateException(error);
                                    }
                                });
                    }
                    while (batch.running() > 0) {
                        batch.step();
                    }
                    for (int[] t : done) {
                        tokens += t.length;
                    }
                }
                double tokS = tokens / ((System.nanoTime() - start) / 1e9);
                if (n == 1) {
                    single = tokS;
                }
                if (round == 1) {
                    System.out.printf(Locale.ROOT, "| %d | %.1f | %.2fx |%n", n, tokS, tokS / single);
                    System.out.printf(Locale.ROOT, "engine_tok_s_%d=%.1f%n", n, tokS);
                }
            }
        }
    }

    private static List<Sample> run(LlmServer server, int clients, int seconds, int maxTokens) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Sample> all = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    Random r = new Random(client);
                    while (System.nanoTime() < deadline) {
                        all.add(request(server, r, maxTokens));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return all;
    }

    private static Sample request(LlmServer server, Random r, int maxTokens) throws IOException, InterruptedException {
        StringBuilder prompt = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            prompt.append('w').append(2 + r.nextInt(1000)).append(' ');
        }
        ObjectNode body = JSON.createObjectNode().put("model", "bench").put("prompt", prompt.toString().trim())
                .put("max_tokens", maxTokens).put("temperature", 0).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        long start = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> resp = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofLines());
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("status " + resp.statusCode());
        }
        double ttft = -1;
        int tokens = 0;
        for (Iterator<String> it = resp.body().iterator(); it.hasNext(); ) {
            String line = it.next();
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                continue;
            }
            JsonNode chunk = JSON.readTree(line.substring(6));
            if (ttft < 0 && chunk.path("choices").path(0).path("text").asText("").length() > 0) {
                ttft = (System.nanoTime() - start) / 1e9;
            }
            if (chunk.hasNonNull("usage")) {
                tokens = chunk.get("usage").get("completion_tokens").asInt();
            }
        }
        return new Sample(ttft, (System.nanoTime() - start) / 1e9, tokens);
    }

    private static double pct(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f, int p) {
        double[] v = samples.stream().mapToDouble(f).filter(x -> x >= 0).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v[Math.min(v.length - 1, (int) Math.ceil(p / 100.0 * v.length) - 1)];
    }

    private static void writeWordTokenizer(Path file, int vocab) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode words = model.putObject("vocab");
        words.put("<unk>", 0);
        for (int i = 1; i < vocab; i++) {
            words.put("w" + i, i);
        }
        model.put("unk_token", "<unk>");
        Files.writeString(file, JSON.writeValueAsString(root));
    }
}
