package org.llmkit.samples.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One OpenAI-style chat completion request, sent with the JDK's {@link HttpClient}: what any OpenAI client
 * sends to {@code POST /v1/chat/completions}.
 *
 * <pre>{@code
 * ChatRequest.Exchange x = ChatRequest.send(URI.create("http://127.0.0.1:8080"), "model", "Hi!", 32);
 * x.answer();
 * }</pre>
 */
public final class ChatRequest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ChatRequest() { }

    /**
     * A request and its response.
     *
     * @param request the JSON sent
     * @param status the HTTP status
     * @param response the JSON received
     * @param answer the first choice's message content, or null when the status is not 200
     * @param seconds time from sending to the complete response
     */
    public record Exchange(JsonNode request, int status, JsonNode response, String answer, double seconds) {
    }

    /**
     * Sends a one-message chat request and waits for the whole answer.
     *
     * @param server the server's base address, for example {@code http://127.0.0.1:8080}
     * @param model the model id the server expects
     * @param message the user's message
     * @param maxTokens the {@code max_tokens} of the request
     * @return the exchange
     * @throws IOException when the server cannot be reached or does not answer JSON
     * @throws InterruptedException when interrupted while waiting
     */
    public static Exchange send(URI server, String model, String message, int maxTokens)
            throws IOException, InterruptedException {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user").put("content", message);
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest request = HttpRequest.newBuilder(server.resolve("/v1/chat/completions"))
                .timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(body)))
                .build();
        long start = System.nanoTime();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        double seconds = (System.nanoTime() - start) / 1e9;
        JsonNode json;
        try {
            json = MAPPER.readTree(response.body());
        } catch (IOException e) {
            throw new IOException("the server answered HTTP " + response.statusCode() + " with non-JSON: "
                    + response.body(), e);
        }
        String answer = response.statusCode() == 200
                ? json.path("choices").path(0).path("message").path("content").asText(null) : null;
        return new Exchange(body, response.statusCode(), json, answer, seconds);
    }
}
