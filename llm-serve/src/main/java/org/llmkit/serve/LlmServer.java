package org.llmkit.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import java.util.concurrent.atomic.AtomicBoolean;
import org.llmkit.api.LanguageModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running OpenAI-compatible HTTP server (Javalin on Jetty) in front of one {@link LanguageModel}.
 *
 * <pre>{@code
 * try (LlmServer s = LlmServer.of(model).port(0).apiKeys("k1").maxBatchSize(16).start()) {
 *     URI base = URI.create("http://127.0.0.1:" + s.port() + "/v1");
 * }
 * }</pre>
 *
 * <p>Endpoints: {@code POST /v1/chat/completions} and {@code POST /v1/completions} (Server-Sent Events when
 * {@code "stream": true}), {@code GET /v1/models}, {@code POST /generate} ({@code {prompt, max_tokens,
 * temperature}} &rarr; {@code {response}}), {@code GET /health}, {@code GET /metrics} (Prometheus).
 *
 * <p>Requests run on a {@link ContinuousScheduler}: continuous batching of up to {@code maxBatchSize} sequences
 * (one forward pass per decode step over all of them; requests join and leave between steps), a cap on their
 * KV-cache tokens ({@code maxKvTokens}) and a bounded queue (HTTP 429 when full).
 *
 * <p>{@link #close()} is graceful: new requests get 503, in-flight generations may finish within the shutdown
 * grace, and streams still running after it end with a final chunk ({@code finish_reason "length"}) and
 * {@code data: [DONE]}.
 */
public final class LlmServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlmServer.class);

    private final ServerConfig config;
    private final Scheduler scheduler;
    private final Routes routes;
    private final Javalin app;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    LlmServer(LanguageModel model, ServerConfig config, Scheduler scheduler) {
        this.config = config;
        this.scheduler = scheduler;
        ServerMetrics metrics = new ServerMetrics(scheduler);
        this.routes = new Routes(new ObjectMapper(), model, config, scheduler, metrics, closing::get);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            routes.register(cfg.routes);
        });
        try {
            app.start(config.host(), config.port());
        } catch (RuntimeException e) {
            scheduler.close();
            throw e;
        }
        LOG.info("serving {} on http://{}:{} (continuous batching: {} sequences, {} KV tokens; queue {})",
                config.modelName(), config.host(), app.port(), config.maxBatchSize(), config.maxKvTokens(),
                config.maxQueue());
    }

    /**
     * Starts configuring a server for a model (which must have a tokenizer).
     *
     * @param model the model to serve; thread-safe for concurrent generations
     * @return a builder; finish with {@link LlmServerBuilder#start()}
     */
    public static LlmServerBuilder of(LanguageModel model) {
        return new LlmServerBuilder(model);
    }

    /** @return the port the server listens on (the one picked when configured with {@code port(0)}) */
    public int port() {
        return app.port();
    }

    /** @return the model id clients send as {@code model} */
    public String modelName() {
        return config.modelName();
    }

    /**
     * Stops gracefully: refuses new requests (503), lets in-flight generations finish within the shutdown grace,
     * cancels the rest (their streams end cleanly), then stops the HTTP server. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closing.set(true);
        boolean finished = scheduler.drain(config.shutdownGrace());
        // let HTTP threads write their last chunks before Jetty stops
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (routes.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        LOG.info("stopped{}", finished ? "" : " (in-flight generations were cancelled after the grace period)");
    }
}
