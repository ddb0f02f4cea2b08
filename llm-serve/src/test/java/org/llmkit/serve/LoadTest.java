package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 64 concurrent streaming clients for 20 s against a loopback server with continuous batching (16 rows, 16
 * waiting): the only errors are deliberate 429s, every accepted stream is complete, clients that hang up
 * mid-stream free their rows, and the server's memory is flat afterwards.
 */
class LoadTest {
    private static final int CLIENTS = 64;
    private static final long SECONDS = 20;

    @Test
    void sixtyFourStreamingClientsForTwentySeconds() throws Exception {
        try (LlmServer server = TestSupport.server().maxBatchSize(16).maxQueue(16).start()) {
            runLoad(server, 3);                      // warm up: JIT, scripted kernels, cache growth
            long heapBefore = usedHeapAfterGc();
            long rssBefore = residentBytes();

            Tally t = runLoad(server, SECONDS);

            assertThat(t.errors).as("unexpected failures").isEmpty();
            assertThat(t.completed.get()).as("completed streams").isGreaterThan(100);
            assertThat(t.rejected.get()).as("deliberate 429s happen at 64 clients for 32 places").isPositive();
            assertThat(t.hungUp.get()).isPositive();
            awaitIdle(server);
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            long rssGrowth = residentBytes() - rssBefore;
            System.out.printf("load: %d streams complete, %d x 429, %d hung up; heap %+d KiB, RSS %+d KiB%n",
                    t.completed.get(), t.rejected.get(), t.hungUp.get(), heapGrowth / 1024, rssGrowth / 1024);
            assertThat(heapGrowth).as("Java heap growth after the load").isLessThan(32L << 20);
            assertThat(rssGrowth).as("resident memory growth after the load").isLessThan(256L << 20);
            String metrics = TestSupport.get(server, "/metrics", null).body();
            assertThat(SchedulingTest.metric(metrics, "llmkit_active_generations")).isZero();
            assertThat(SchedulingTest.metric(metrics, "llmkit_queue_depth")).isZero();
        }
    }

    /** What the clients saw. */
    static final class Tally {
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger rejected = new AtomicInteger();
        final AtomicInteger hungUp = new AtomicInteger();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    }

    private static Tally runLoad(LlmServer server, long seconds) throws Exception {
        Tally t = new Tally();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    Random r = new Random(client);
                    for (int i = 0; System.nanoTime() < deadline; i++) {
                        try {
                            if (client % 8 == 7 && i % 2 == 0) {
                                hangUpMidStream(server, t);
                            } else {
                                stream(server, r, t);
                            }
                        } catch (IOException | RuntimeException e) {
                            t.errors.add("client " + client + ": " + e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : clients) {
                f.get(seconds + 60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return t;
    }

    private static void stream(LlmServer server, Random r, Tally t) throws IOException {
        int maxTokens = 4 + r.nextInt(40);
        String body = "{\"model\": \"tiny-llama3\", \"max_tokens\": " + maxTokens + ", \"temperature\": 0.8, \"seed\": "
                + r.nextInt(1000) + ", \"stream\": true, \"stream_options\": {\"include_usage\": true},"
                + " \"messages\": [{\"role\": \"user\", \"content\": \"tell me story number " + r.nextInt(100) + "\"}]}";
        HttpResponse<String> resp;
        try {
            resp = TestSupport.HTTP.send(HttpRequest.newBuilder(TestSupport.uri(server, "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (resp.statusCode() == 429) {
            JsonNode error = TestSupport.json(resp).get("error");
            if (!"rate_limit_exceeded".equals(error.get("code").asText())) {
                t.errors.add("429 without rate_limit_exceeded: " + resp.body());
            }
            t.rejected.incrementAndGet();
            sleep(r.nextInt(30));
            return;
        }
        if (resp.statusCode() != 200) {
            t.errors.add("status " + resp.statusCode() + ": " + resp.body());
            return;
        }
        List<JsonNode> chunks = TestSupport.sseChunks(resp.body());   // asserts the final [DONE]
        JsonNode usage = chunks.get(chunks.size() - 1).get("usage");
        JsonNode finish = chunks.get(chunks.size() - 2).get("choices").get(0).get("finish_reason");
        if (usage == null || finish == null || finish.isNull()) {
            t.errors.add("incomplete stream: " + resp.body());
        } else if (usage.get("completion_tokens").asInt() < 1 || usage.get("completion_tokens").asInt() > maxTokens) {
            t.errors.add("completion_tokens out of range: " + usage);
        } else {
            t.completed.incrementAndGet();
        }
    }

    private static void hangUpMidStream(LlmServer server, Tally t) throws IOException {
        String body = "{\"model\": \"tiny-llama3\", \"max_tokens\": 400, \"temperature\": 0, \"stream\": true,"
                + " \"messages\": [{\"role\": \"user\", \"content\": \"go on and on\"}]}";
        try (RawStream s = new RawStream(server, "/v1/chat/completions", body)) {
            String status = s.statusLine();
            if (status.contains("429")) {
                t.rejected.incrementAndGet();
                sleep(20);
                return;
            }
            if (!status.contains("200")) {
                t.errors.add("hang-up client got " + status);
                return;
            }
            s.nextData();
            s.nextData();
            t.hungUp.incrementAndGet();
        }
    }

    private static void awaitIdle(LlmServer server) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String metrics = TestSupport.get(server, "/metrics", null).body();
            if (SchedulingTest.metric(metrics, "llmkit_active_generations") == 0
                    && SchedulingTest.metric(metrics, "llmkit_queue_depth") == 0) {
                return;
            }
            Thread.sleep(50);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return heap.getUsed();
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static void sleep(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
