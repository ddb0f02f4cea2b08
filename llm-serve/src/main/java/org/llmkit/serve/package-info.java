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
 * <p>Scheduling: requests go through a {@link org.llmkit.serve.Scheduler}. The server uses
 * {@link org.llmkit.serve.ContinuousScheduler}: continuous batching on one decode thread, admitting waiting requests
 * into the running batch between decode steps (each with its own sampling settings and KV-cache row, built on
 * llm-api's {@link org.llmkit.api.ContinuousBatch}), retiring finished ones at once, with caps on sequences and on
 * KV-cache tokens and a bounded queue (HTTP 429 when full). {@link org.llmkit.serve.BoundedScheduler} runs
 * independent generations on worker threads instead (no shared forward pass).
 */
package org.llmkit.serve;
