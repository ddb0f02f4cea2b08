/**
 * An embeddable, OpenAI-compatible HTTP server for llmkit language models.
 *
 * <pre>{@code
 * try (LlmServer s = LlmServer.of(model).port(8080).apiKeys("k1").maxBatchSize(16).start()) {
 *     int port = s.port();
 * }
 * }</pre>
 *
 * <p>Endpoints: {@code POST /v1/chat/completions}, {@code POST /v1/completions} (Server-Sent Events when
 * {@code stream} is true), {@code GET /v1/models}, {@code POST /generate}, {@code GET /health} and
 * {@code GET /metrics} (Prometheus text format).
 *
 * <p>Scheduling: requests go through a {@link org.llmkit.serve.Scheduler}. The one shipped,
 * {@link org.llmkit.serve.BoundedScheduler}, runs up to {@code maxBatchSize} generations concurrently, each on its
 * own worker thread with its own KV cache, and holds a bounded queue of waiting requests (HTTP 429 when full).
 * Continuous batching (admitting waiting requests into one running decode batch between steps) is <b>not</b>
 * implemented: llm-api has no step-level decode API yet, so concurrent requests do not share a forward pass.
 */
package org.llmkit.serve;
