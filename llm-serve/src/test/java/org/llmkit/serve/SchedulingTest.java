package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.llmkit.api.generate.GenerationResult;

/** The bounded queue answers 429 when full, and a client that hangs up frees its generation slot. */
class SchedulingTest {
    private static final String LONG_STREAM = """
            {"model": "tiny-llama3", "max_tokens": 3900, "temperature": 0, "stream": true,
             "messages": [{"role": "user", "content": "go"}]}""";
    private static final String SHORT = """
            {"model": "tiny-llama3", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}""";

    @Test
    void fullQueueGets429AndDisconnectFreesTheSlot() throws Exception {
        try (LlmServer server = TestSupport.server().maxBatchSize(1).maxQueue(0).start()) {
            RawStream stream = new RawStream(server, "/v1/chat/completions", LONG_STREAM);
            assertThat(stream.statusLine()).contains("200");
            assertThat(stream.nextData()).contains("\"role\":\"assistant\"");
            assertThat(stream.nextData()).contains("\"content\"");

            HttpResponse<String> busy = TestSupport.post(server, "/v1/chat/completions", SHORT);
            assertThat(busy.statusCode()).isEqualTo(429);
            assertThat(TestSupport.json(busy).get("error").get("code").asText()).isEqualTo("rate_limit_exceeded");

            stream.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int status = 429;
            while (status == 429 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                status = TestSupport.post(server, "/v1/chat/completions", SHORT).statusCode();
            }
            assertThat(status).isEqualTo(200);
            String metrics = TestSupport.get(server, "/metrics", null).body();
            assertThat(metric(metrics, "llmkit_generations_cancelled_total")).isEqualTo(1);
            assertThat(metric(metrics, "llmkit_http_requests_total{endpoint=\"/v1/chat/completions\",status=\"429\"}"))
                    .isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void schedulerRunsAtMostMaxConcurrentAndRejectsPastTheQueue() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(2);
        GenerationRequest request = new GenerationRequest(new int[] {1, 2, 3}, 5, 0.0, null, null, List.of());
        try (BoundedScheduler scheduler = new BoundedScheduler(TestSupport.model(), 1, 1)) {
            scheduler.submit(request, new Blocking(release, done));
            scheduler.submit(request, new Blocking(release, done));
            awaitRunning(scheduler);
            assertThat(scheduler.active()).isEqualTo(1);
            assertThat(scheduler.queueDepth()).isEqualTo(1);

            assertThatThrownBy(() -> scheduler.submit(request, new Blocking(release, done)))
                    .isInstanceOf(SchedulerFullException.class).hasMessageContaining("max 1");

            release.countDown();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void cancellingAQueuedRequestNeverRunsIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        GenerationRequest request = new GenerationRequest(new int[] {1, 2, 3}, 5, 0.0, null, null, List.of());
        try (BoundedScheduler scheduler = new BoundedScheduler(TestSupport.model(), 1, 1)) {
            scheduler.submit(request, new Blocking(release, done));
            Blocking queued = new Blocking(release, new CountDownLatch(1));
            scheduler.submit(request, queued).cancel();

            assertThat(scheduler.queueDepth()).isZero();
            assertThat(queued.failure).isInstanceOf(java.util.concurrent.CancellationException.class);
            release.countDown();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(queued.pieces).isZero();
        }
    }

    @Test
    void continuousSchedulerQueuesBeyondItsRowsAndRejectsPastTheQueue() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(2);
        GenerationRequest request = new GenerationRequest(new int[] {1, 2, 3}, 5, 0.0, null, null, List.of());
        try (ContinuousScheduler scheduler = new ContinuousScheduler(TestSupport.model(), 1, 1000, 1)) {
            scheduler.submit(request, new Blocking(release, done));
            awaitRunning(scheduler);
            scheduler.submit(request, new Blocking(release, done));
            assertThat(scheduler.active()).isEqualTo(1);
            assertThat(scheduler.queueDepth()).isEqualTo(1);

            assertThatThrownBy(() -> scheduler.submit(request, new Blocking(release, done)))
                    .isInstanceOf(SchedulerFullException.class).hasMessageContaining("max 1");

            release.countDown();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void continuousSchedulerDropsACancelledQueuedRequestAndRefusesOneThatCanNeverFit() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        GenerationRequest request = new GenerationRequest(new int[] {1, 2, 3}, 5, 0.0, null, null, List.of());
        try (ContinuousScheduler scheduler = new ContinuousScheduler(TestSupport.model(), 1, 100, 1)) {
            scheduler.submit(request, new Blocking(release, done));
            awaitRunning(scheduler);
            Blocking queued = new Blocking(release, new CountDownLatch(1));
            scheduler.submit(request, queued).cancel();
            assertThat(scheduler.queueDepth()).isZero();
            assertThat(queued.failure).isInstanceOf(java.util.concurrent.CancellationException.class);

            GenerationRequest huge = new GenerationRequest(new int[] {1, 2, 3}, 98, 0.0, null, null, List.of());
            assertThatThrownBy(() -> scheduler.submit(huge, new Blocking(release, done)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("KV-cache budget of 100");
            release.countDown();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(queued.pieces).isZero();
        }
    }

    /** Waits (at most 10 s) until the scheduler has started a generation. */
    private static void awaitRunning(Scheduler scheduler) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (scheduler.active() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    static double metric(String text, String name) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** Holds its worker at the first piece until released. */
    private static final class Blocking implements GenerationListener {
        private final CountDownLatch release;
        private final CountDownLatch done;
        volatile int pieces;
        volatile Throwable failure;

        Blocking(CountDownLatch release, CountDownLatch done) {
            this.release = release;
            this.done = done;
        }

        @Override
        public void onPiece(String piece) {
            pieces++;
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void onComplete(GenerationResult result) {
            done.countDown();
        }

        @Override
        public void onFailure(Throwable error) {
            failure = error;
            done.countDown();
        }
    }
}
