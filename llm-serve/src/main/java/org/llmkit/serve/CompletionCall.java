package org.llmkit.serve;

/**
 * A validated completion request: what to generate and how to answer.
 *
 * @param generation the scheduler's unit of work
 * @param stream answer with Server-Sent Events
 * @param includeUsage send a final usage chunk when streaming ({@code stream_options.include_usage})
 */
record CompletionCall(GenerationRequest generation, boolean stream, boolean includeUsage) {
}
