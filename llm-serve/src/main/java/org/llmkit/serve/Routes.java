package org.llmkit.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.llmkit.api.LanguageModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints. Every endpoint goes through {@link #endpoint}: shutdown check, API key, body size limit,
 * OpenAI-shaped errors and request metrics, so that a refused request never disturbs the next one.
 */
final class Routes {
    private static final Logger LOG = LoggerFactory.getLogger(Routes.class);

    private final ObjectMapper json;
    private final ServerConfig config;
    private final ApiKeys keys;
    private final ServerMetrics metrics;
    private final RequestParser parser;
    private final CompletionRunner runner;
    private final BooleanSupplier closing;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final long created = System.currentTimeMillis() / 1000;

    Routes(ObjectMapper json, LanguageModel model, ServerConfig config, Scheduler scheduler, ServerMetrics metrics,
            BooleanSupplier closing) {
        this.json = json;
        this.config = config;
        this.keys = new ApiKeys(config.apiKeys());
        this.metrics = metrics;
        this.parser = new RequestParser(json, model, config);
        this.runner = new CompletionRunner(json, scheduler, metrics, config);
        this.closing = closing;
    }

    /** @return HTTP handlers running right now */
    int inFlight() {
        return inFlight.get();
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/chat/completions", endpoint("/v1/chat/completions", true, ctx ->
                runner.run(ctx, parser.chat(body(ctx)), shape(OpenAiJson.Kind.CHAT))));
        routes.post("/v1/completions", endpoint("/v1/completions", true, ctx ->
                runner.run(ctx, parser.completion(body(ctx)), shape(OpenAiJson.Kind.TEXT))));
        routes.post("/generate", endpoint("/generate", true, ctx ->
                runner.run(ctx, parser.generate(body(ctx)), shape(OpenAiJson.Kind.PLAIN))));
        routes.get("/v1/models", endpoint("/v1/models", true, ctx ->
                ctx.contentType("application/json").result(json.writeValueAsBytes(
                        OpenAiJson.models(json, config.modelName(), created)))));
        routes.get("/health", ctx -> {
            boolean up = !closing.getAsBoolean();
            ctx.status(up ? 200 : 503).contentType("application/json")
                    .result(up ? "{\"status\":\"ok\"}" : "{\"status\":\"shutting_down\"}");
        });
        routes.get("/metrics", ctx -> ctx.contentType(metrics.contentType()).result(metrics.scrape()));
    }

    private OpenAiJson shape(OpenAiJson.Kind kind) {
        return new OpenAiJson(json, kind, config.modelName());
    }

    private Handler endpoint(String name, boolean authenticate, Handler handler) {
        return ctx -> {
            long start = System.nanoTime();
            inFlight.incrementAndGet();
            try {
                if (closing.getAsBoolean()) {
                    throw CompletionRunner.unavailable();
                }
                if (authenticate) {
                    authenticate(ctx);
                }
                handler.handle(ctx);
            } catch (ApiException e) {
                writeError(ctx, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                writeError(ctx, CompletionRunner.unavailable());
            } catch (Exception e) {
                LOG.error("{} failed", name, e);
                writeError(ctx, new ApiException(500, "server_error", null, null, "Internal server error: " + e));
            } finally {
                inFlight.decrementAndGet();
                metrics.request(name, ctx.statusCode(), (System.nanoTime() - start) / 1e9);
            }
        };
    }

    private void authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (!keys.accepts(header)) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, ApiException.INVALID_REQUEST, null, "invalid_api_key", header == null
                    ? "You didn't provide an API key. Provide it in an Authorization header (Bearer auth)."
                    : "Incorrect API key provided.");
        }
    }

    /** Reads the body up to the limit: a longer one is refused with 413 whatever Content-Length claims. */
    private JsonNode body(Context ctx) throws IOException {
        long limit = config.maxBodyBytes();
        if (ctx.req().getContentLengthLong() > limit) {
            throw tooLarge(ctx.req().getContentLengthLong());
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            bytes = in.readNBytes((int) limit + 1);
        }
        if (bytes.length > limit) {
            throw tooLarge(bytes.length);
        }
        return parser.readObject(bytes);
    }

    private ApiException tooLarge(long size) {
        return new ApiException(413, ApiException.INVALID_REQUEST, null, "request_too_large", "The request body ("
                + size + (size > config.maxBodyBytes() ? "+" : "") + " bytes) exceeds the limit of "
                + config.maxBodyBytes() + " bytes.");
    }

    private void writeError(Context ctx, ApiException e) {
        metrics.error(e.status(), e.type());
        if (ctx.res().isCommitted()) {
            LOG.warn("cannot send error {} after the response started: {}", e.status(), e.getMessage());
            return;
        }
        try {
            ctx.status(e.status()).contentType("application/json")
                    .result(json.writeValueAsBytes(OpenAiJson.error(json, e)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException never) {
            throw new IllegalStateException("a JSON tree always serializes", never);
        }
    }
}
