package org.llmkit.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import org.llmkit.api.generate.FinishReason;
import org.llmkit.api.generate.GenerationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link CompletionCall} through the scheduler and writes the answer: one JSON object, or a stream of
 * Server-Sent Events ({@code data: <chunk>} lines, then {@code data: [DONE]}, as OpenAI streams). A client that
 * disconnects mid-stream is noticed on the next write and its generation is cancelled.
 */
final class CompletionRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CompletionRunner.class);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final ObjectMapper json;
    private final Scheduler scheduler;
    private final ServerMetrics metrics;
    private final ServerConfig config;

    CompletionRunner(ObjectMapper json, Scheduler scheduler, ServerMetrics metrics, ServerConfig config) {
        this.json = json;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.config = config;
    }

    void run(Context ctx, CompletionCall call, OpenAiJson shape) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + config.requestTimeout().toNanos();
        EventQueue events = new EventQueue();
        Scheduler.Ticket ticket = submit(call.generation(), events);
        try {
            if (call.stream()) {
                stream(ctx, call, shape, events, ticket, start, deadline);
            } else {
                respond(ctx, shape, events, ticket, start, deadline);
            }
        } catch (InterruptedException | RuntimeException e) {
            ticket.cancel();
            throw e;
        }
    }

    private Scheduler.Ticket submit(GenerationRequest request, EventQueue events) {
        try {
            return scheduler.submit(request, events);
        } catch (SchedulerFullException e) {
            throw new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded", e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "invalid_request_error", "max_tokens", "context_length_exceeded",
                    e.getMessage());
        } catch (IllegalStateException e) {
            throw unavailable();
        }
    }

    private void respond(Context ctx, OpenAiJson shape, EventQueue events, Scheduler.Ticket ticket, long start,
            long deadline) throws InterruptedException {
        boolean first = true;
        while (true) {
            EventQueue.Event e = events.next(deadline);
            if (e == null) {
                ticket.cancel();
                metrics.cancelled();
                throw new ApiException(504, "server_error", null, "timeout", "The request did not finish within "
                        + config.requestTimeout().toSeconds() + " s and was cancelled.");
            }
            if (e.piece() != null && first) {
                metrics.firstToken((System.nanoTime() - start) / 1e9);
                first = false;
            } else if (e.result() != null) {
                finished(e.result());
                ctx.contentType("application/json").result(bytes(shape.complete(e.result())));
                return;
            } else if (e.error() != null) {
                throw failure(e.error());
            }
        }
    }

    private void stream(Context ctx, CompletionCall call, OpenAiJson shape, EventQueue events,
            Scheduler.Ticket ticket, long start, long deadline) throws InterruptedException {
        ctx.status(200);
        ctx.header("Content-Type", "text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        try {
            OutputStream out = ctx.res().getOutputStream();
            send(out, shape.roleChunk());
            boolean first = true;
            while (true) {
                EventQueue.Event e = events.next(deadline);
                if (e == null) {
                    // timeout: end the stream cleanly, marked as cut short
                    ticket.cancel();
                    metrics.cancelled();
                    send(out, shape.finishChunk(FinishReason.LENGTH));
                    out.write(DONE);
                    out.flush();
                    return;
                }
                if (e.piece() != null) {
                    if (first) {
                        metrics.firstToken((System.nanoTime() - start) / 1e9);
                        first = false;
                    }
                    send(out, shape.pieceChunk(e.piece()));
                } else if (e.result() != null) {
                    finished(e.result());
                    send(out, shape.finishChunk(e.result().finishReason()));
                    if (call.includeUsage()) {
                        send(out, shape.usageChunk(e.result()));
                    }
                    out.write(DONE);
                    out.flush();
                    return;
                } else {
                    endFailed(out, shape, e.error());
                    return;
                }
            }
        } catch (IOException gone) {
            // the client disconnected: stop generating for it and free its slot
            ticket.cancel();
            metrics.cancelled();
            LOG.debug("client disconnected mid-stream: {}", gone.toString());
        }
    }

    /** Ends a stream whose generation failed: cut short by shutdown, or an error event as OpenAI sends. */
    private void endFailed(OutputStream out, OpenAiJson shape, Throwable error) throws IOException {
        if (error instanceof CancellationException) {
            metrics.cancelled();
            send(out, shape.finishChunk(FinishReason.LENGTH));
        } else {
            ApiException api = failure(error);
            metrics.error(api.status(), api.type());
            send(out, OpenAiJson.error(json, api));
        }
        out.write(DONE);
        out.flush();
    }

    private void send(OutputStream out, JsonNode node) throws IOException {
        if (node == null) {
            return;
        }
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(bytes(node));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private void finished(GenerationResult r) {
        metrics.finished(r.promptTokens().length, r.newTokens().length, r.totalNanos() - r.prefillNanos());
    }

    private ApiException failure(Throwable error) {
        if (error instanceof CancellationException) {
            metrics.cancelled();
            return unavailable();
        }
        LOG.error("generation failed", error);
        return new ApiException(500, "server_error", null, null, "The generation failed: " + error);
    }

    static ApiException unavailable() {
        return new ApiException(503, "server_error", null, "server_shutting_down",
                "The server is shutting down and accepts no new requests.");
    }

    private byte[] bytes(JsonNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }
}
