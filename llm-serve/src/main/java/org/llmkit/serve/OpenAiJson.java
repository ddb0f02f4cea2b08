package org.llmkit.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import org.llmkit.api.generate.FinishReason;
import org.llmkit.api.generate.GenerationResult;

/**
 * Builds response bodies in the OpenAI wire format (API reference: "The chat completion object", "The chat
 * completion chunk object", "The completion object", "Error codes"). One instance per response: it carries the
 * response's {@code id}, {@code created} and {@code model}, which every chunk of a stream repeats.
 */
final class OpenAiJson {
    /** Which endpoint's shape to produce. */
    enum Kind {
        /** {@code chat.completion} / {@code chat.completion.chunk}, text in {@code message} / {@code delta}. */
        CHAT,
        /** {@code text_completion}, text in {@code choices[].text}. */
        TEXT,
        /** the plan's {@code /generate}: {@code {"response": ...}}. */
        PLAIN
    }

    private final ObjectMapper json;
    private final Kind kind;
    private final String id;
    private final long created;
    private final String model;

    OpenAiJson(ObjectMapper json, Kind kind, String model) {
        this.json = json;
        this.kind = kind;
        this.model = model;
        // OpenAI ids look like "chatcmpl-<random>" and "cmpl-<random>"
        String random = java.util.UUID.randomUUID().toString().replace("-", "");
        this.id = (kind == Kind.CHAT ? "chatcmpl-" : "cmpl-") + random;
        this.created = System.currentTimeMillis() / 1000;
    }

    /** @return the whole (non-streamed) response */
    ObjectNode complete(GenerationResult r) {
        if (kind == Kind.PLAIN) {
            ObjectNode out = json.createObjectNode();
            out.put("response", r.text());
            return out;
        }
        ObjectNode out = header(kind == Kind.CHAT ? "chat.completion" : "text_completion");
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        if (kind == Kind.CHAT) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", r.text());
            message.putNull("refusal");
        } else {
            choice.put("text", r.text());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(r.finishReason()));
        out.set("usage", usage(r));
        return out;
    }

    /** @return the first chunk of a chat stream (the assistant role, empty content); null for other kinds */
    ObjectNode roleChunk() {
        if (kind != Kind.CHAT) {
            return null;
        }
        ObjectNode chunk = chunk(null);
        ObjectNode delta = (ObjectNode) chunk.get("choices").get(0).get("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        return chunk;
    }

    /** @return a chunk carrying a piece of text */
    ObjectNode pieceChunk(String piece) {
        ObjectNode chunk = chunk(null);
        ObjectNode choice = (ObjectNode) chunk.get("choices").get(0);
        if (kind == Kind.CHAT) {
            ((ObjectNode) choice.get("delta")).put("content", piece);
        } else {
            choice.put("text", piece);
        }
        return chunk;
    }

    /** @return the last choice chunk: empty delta (or text) and the finish reason */
    ObjectNode finishChunk(FinishReason reason) {
        ObjectNode chunk = chunk(finishReason(reason));
        if (kind != Kind.CHAT) {
            ((ObjectNode) chunk.get("choices").get(0)).put("text", "");
        }
        return chunk;
    }

    /** @return the usage chunk sent after the finish chunk when {@code stream_options.include_usage} is set */
    ObjectNode usageChunk(GenerationResult r) {
        ObjectNode out = header(kind == Kind.CHAT ? "chat.completion.chunk" : "text_completion");
        out.putArray("choices");
        out.set("usage", usage(r));
        return out;
    }

    /** @return {@code {"error": {"message", "type", "param", "code"}}} */
    static ObjectNode error(ObjectMapper json, ApiException e) {
        ObjectNode out = json.createObjectNode();
        ObjectNode error = out.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.code());
        return out;
    }

    /** @return the {@code GET /v1/models} list with one model */
    static ObjectNode models(ObjectMapper json, String model, long created) {
        ObjectNode out = json.createObjectNode();
        out.put("object", "list");
        ObjectNode m = out.putArray("data").addObject();
        m.put("id", model);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "llmkit");
        return out;
    }

    private ObjectNode chunk(String finishReason) {
        ObjectNode out = header(kind == Kind.CHAT ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = out.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        if (kind == Kind.CHAT) {
            choice.putObject("delta");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        return out;
    }

    private ObjectNode header(String object) {
        ObjectNode out = json.createObjectNode();
        out.put("id", id);
        out.put("object", object);
        out.put("created", created);
        out.put("model", model);
        return out;
    }

    private ObjectNode usage(GenerationResult r) {
        ObjectNode usage = json.createObjectNode();
        usage.put("prompt_tokens", r.promptTokens().length);
        usage.put("completion_tokens", r.newTokens().length);
        usage.put("total_tokens", r.promptTokens().length + r.newTokens().length);
        return usage;
    }

    private static String finishReason(FinishReason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }
}
