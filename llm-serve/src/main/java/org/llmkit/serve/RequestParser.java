package org.llmkit.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.llmkit.api.ChatMessage;
import org.llmkit.api.LanguageModel;

/**
 * Turns request bodies into {@link CompletionCall}s, checking every field against the OpenAI API reference
 * (Chat Completions: {@code POST /v1/chat/completions}; legacy Completions: {@code POST /v1/completions}) and
 * against the model's context. Every refusal is an {@link ApiException} naming the offending {@code param}.
 */
final class RequestParser {
    /** Roles a chat message may have (OpenAI: system, developer, user, assistant; tool calls are not served). */
    static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");
    /** OpenAI accepts up to 4 stop sequences. */
    private static final int MAX_STOPS = 4;

    private final ObjectMapper json;
    private final LanguageModel model;
    private final ServerConfig config;

    RequestParser(ObjectMapper json, LanguageModel model, ServerConfig config) {
        this.json = json;
        this.model = model;
        this.config = config;
    }

    /** @return the body as a JSON object; 400 when it is not one */
    JsonNode readObject(byte[] body) {
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "We could not parse the JSON body of your request: "
                    + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest(null, "We could not read the body of your request: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest(null, "The request body must be a JSON object.");
        }
        return node;
    }

    /** Chat Completions: {@code messages} rendered with the chat template, as {@code LanguageModel.chat} does. */
    CompletionCall chat(JsonNode body) {
        checkModel(body);
        rejectUnsupported(body, true);
        List<ChatMessage> messages = messages(body.get("messages"));
        String prompt;
        try {
            prompt = model.tokenizer().applyChatTemplate(messages, true);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw ApiException.badRequest("messages", "The chat template rejected the messages: " + e.getMessage());
        }
        int[] ids = model.tokenizer().encode(prompt, false);
        // max_completion_tokens replaces the deprecated max_tokens in Chat Completions; both are accepted
        String maxParam = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        return call(body, ids, maxParam, "messages");
    }

    /** Legacy Completions: {@code prompt} encoded with special tokens, as {@code LanguageModel.generate} does. */
    CompletionCall completion(JsonNode body) {
        checkModel(body);
        rejectUnsupported(body, false);
        JsonNode p = body.get("prompt");
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            p = p.get(0);
        }
        if (p == null || p.isNull()) {
            throw ApiException.badRequest("prompt", "Missing required parameter: 'prompt'.");
        }
        if (!p.isTextual()) {
            throw ApiException.badRequest("prompt", "'prompt' must be a string (or a list of exactly one string).");
        }
        return call(body, encodePrompt(p.asText()), "max_tokens", "prompt");
    }

    /** The plan's {@code POST /generate {prompt, max_tokens, temperature}}; {@code model} is not needed. */
    CompletionCall generate(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || !p.isTextual()) {
            throw ApiException.badRequest("prompt", "'prompt' is required and must be a string.");
        }
        CompletionCall c = call(body, encodePrompt(p.asText()), "max_tokens", "prompt");
        // /generate answers with one JSON object; it has no streaming form
        return new CompletionCall(c.generation(), false, false);
    }

    private int[] encodePrompt(String prompt) {
        if (prompt.isEmpty()) {
            throw ApiException.badRequest("prompt", "'prompt' must not be empty.");
        }
        return model.tokenizer().encode(prompt, true);
    }

    private CompletionCall call(JsonNode body, int[] ids, String maxParam, String promptParam) {
        int context = model.config().maxPositionEmbeddings();
        Long maxTokens = Fields.integer(body, maxParam);
        int n;
        if (maxTokens == null) {
            n = Math.min(config.defaultMaxTokens(), context - ids.length);
        } else if (maxTokens < 1) {
            throw ApiException.badRequest(maxParam, "Invalid '" + maxParam + "': " + maxTokens
                    + ". It must be at least 1.");
        } else {
            n = (int) Math.min(maxTokens, Integer.MAX_VALUE);
        }
        if (n < 1 || (long) ids.length + n > context) {
            throw new ApiException(400, ApiException.INVALID_REQUEST, promptParam, "context_length_exceeded",
                    "This model's maximum context length is " + context + " tokens. However, you requested "
                            + ((long) ids.length + Math.max(n, 1)) + " tokens (" + ids.length + " in the "
                            + promptParam + ", " + Math.max(n, 1) + " in the completion). Please reduce the length"
                            + " of the " + promptParam + " or completion.");
        }
        Double temperature = Fields.number(body, "temperature");
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            throw ApiException.badRequest("temperature", "Invalid 'temperature': " + temperature
                    + ". It must be between 0 and 2.");
        }
        Double topP = Fields.number(body, "top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiException.badRequest("top_p", "Invalid 'top_p': " + topP + ". It must be in (0, 1].");
        }
        Long seed = Fields.integer(body, "seed");
        Long count = Fields.integer(body, "n");
        if (count != null && count != 1) {
            throw ApiException.badRequest("n", "Invalid 'n': " + count + ". This server generates one choice (n=1).");
        }
        boolean stream = Boolean.TRUE.equals(Fields.bool(body, "stream"));
        JsonNode options = body.get("stream_options");
        boolean usage = options != null && options.isObject()
                && Boolean.TRUE.equals(Fields.bool(options, "include_usage"));
        return new CompletionCall(new GenerationRequest(ids, n, temperature, topP, seed, stops(body.get("stop"))),
                stream, usage);
    }

    private void checkModel(JsonNode body) {
        JsonNode m = body.get("model");
        if (m == null || m.isNull()) {
            throw ApiException.badRequest("model", "You must provide a model parameter.");
        }
        if (!m.isTextual() || !m.asText().equals(config.modelName())) {
            throw new ApiException(404, ApiException.INVALID_REQUEST, "model", "model_not_found", "The model `"
                    + (m.isTextual() ? m.asText() : m.toString()) + "` does not exist; this server serves `"
                    + config.modelName() + "`.");
        }
    }

    private static void rejectUnsupported(JsonNode body, boolean chat) {
        if (chat && body.hasNonNull("tools") && body.get("tools").size() > 0) {
            throw ApiException.badRequest("tools", "Tool calling is not supported by this server.");
        }
        JsonNode logprobs = body.get("logprobs");
        if (logprobs != null && !logprobs.isNull() && !(logprobs.isBoolean() && !logprobs.asBoolean())) {
            throw ApiException.badRequest("logprobs", "'logprobs' is not supported by this server.");
        }
        if (!chat && Boolean.TRUE.equals(Fields.bool(body, "echo"))) {
            throw ApiException.badRequest("echo", "'echo' is not supported by this server.");
        }
        Long bestOf = chat ? null : Fields.integer(body, "best_of");
        if (bestOf != null && bestOf != 1) {
            throw ApiException.badRequest("best_of", "Invalid 'best_of': " + bestOf + ". Only 1 is supported.");
        }
    }

    private static List<ChatMessage> messages(JsonNode node) {
        if (node == null || node.isNull()) {
            throw ApiException.badRequest("messages", "Missing required parameter: 'messages'.");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw ApiException.badRequest("messages", "'messages' must be a non-empty array.");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String param = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(param, "Invalid '" + param + "': expected an object.");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.badRequest(param + ".role", "Invalid value for '" + param + ".role': "
                        + role + ". Supported values are: 'system', 'developer', 'user' and 'assistant'.");
            }
            // OpenAI's "developer" role is the newer name of "system"
            String r = role.asText().equals("developer") ? ChatMessage.SYSTEM : role.asText();
            out.add(ChatMessage.of(r, content(m.get("content"), param + ".content")));
        }
        return out;
    }

    /** Content is a string or an array of {@code {"type": "text", "text": ...}} parts (concatenated). */
    private static String content(JsonNode c, String param) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(param, "Only text content parts are supported in '" + param + "'.");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiException.badRequest(param, "'" + param + "' must be a string or an array of text parts.");
    }

    private static List<String> stops(JsonNode stop) {
        List<String> out = new ArrayList<>();
        if (stop == null || stop.isNull()) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray() && stop.size() <= MAX_STOPS) {
            stop.forEach(s -> out.add(s.isTextual() ? s.asText() : ""));
        } else {
            throw ApiException.badRequest("stop", "'stop' must be a string or an array of at most " + MAX_STOPS
                    + " strings.");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.badRequest("stop", "Every 'stop' sequence must be a non-empty string.");
        }
        return out;
    }
}
