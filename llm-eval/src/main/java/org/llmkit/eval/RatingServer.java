package org.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A small web page for human evaluation, served by the library: it shows each prompt with the
 * model's response, lets a rater give a 1-5 score and a comment per item, and collects the
 * submissions. The page is one HTML file with inline CSS and JavaScript: no external assets, so it
 * works offline.
 *
 * <pre>{@code
 * try (RatingServer s = RatingServer.of(RatingItem.generate(model, prompts, 64)).port(8090).start()) {
 *     System.out.println("rate at " + s.url());
 *     ... wait for raters ...
 *     EvalReport r = Evaluator.of(model).humanRatings(s.ratings()).run();
 * }
 * }</pre>
 *
 * <p>Endpoints: {@code GET /} the page, {@code GET /api/items} the items as JSON,
 * {@code POST /api/ratings} with {@code {"ratings": [{"item": id, "score": 1-5, "comment": text}]}}
 * (answers {@code {"accepted": n}}, or 400 with {@code {"error": ...}} naming the bad entry; a
 * submission is taken whole or not at all).
 */
public final class RatingServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<RatingItem> items;
    private final List<Rating> ratings = new ArrayList<>();
    private final Javalin app;

    private RatingServer(List<RatingItem> items, String host, int port) {
        this.items = items;
        String page = page();
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
            cfg.routes.get("/api/items", this::itemsJson);
            cfg.routes.post("/api/ratings", this::submit);
        });
        app.start(host, port);
    }

    /**
     * Starts configuring a server for some items.
     *
     * @param items at least one item, ids unique
     * @return the builder
     */
    public static Builder of(List<RatingItem> items) {
        Objects.requireNonNull(items, "items");
        if (items.isEmpty()) {
            throw new IllegalArgumentException("a rating page needs at least one item");
        }
        Set<String> ids = items.stream().map(RatingItem::id).collect(Collectors.toSet());
        if (ids.size() != items.size()) {
            throw new IllegalArgumentException("rating item ids must be unique");
        }
        return new Builder(List.copyOf(items), "127.0.0.1", 0);
    }

    /** Configures a {@link RatingServer}; {@link #start()} validates and starts it. */
    public static final class Builder {
        private final List<RatingItem> items;
        private final String host;
        private final int port;

        private Builder(List<RatingItem> items, String host, int port) {
            this.items = items;
            this.host = host;
            this.port = port;
        }

        /**
         * Sets the port.
         *
         * @param number in [0, 65535]; 0 picks a free port (the default)
         * @return a copy with the port
         */
        public Builder port(int number) {
            if (number < 0 || number > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], was " + number);
            }
            return new Builder(items, host, number);
        }

        /**
         * Sets the address to listen on.
         *
         * @param address for example {@code "0.0.0.0"} to accept raters from other machines; default
         *     {@code 127.0.0.1}
         * @return a copy with the address
         */
        public Builder host(String address) {
            if (address == null || address.isBlank()) {
                throw new IllegalArgumentException("host must be a non-blank address");
            }
            return new Builder(items, address, port);
        }

        /**
         * Starts the server.
         *
         * @return the running server; close it to stop
         */
        public RatingServer start() {
            return new RatingServer(items, host, port);
        }
    }

    /**
     * Returns the port the server listens on.
     *
     * @return the port
     */
    public int port() {
        return app.port();
    }

    /**
     * Returns the page's address.
     *
     * @return for example {@code http://127.0.0.1:41234/}
     */
    public String url() {
        return "http://127.0.0.1:" + port() + "/";
    }

    /**
     * Returns how many ratings have arrived.
     *
     * @return the count
     */
    public synchronized int ratingCount() {
        return ratings.size();
    }

    /**
     * Returns a snapshot of the ratings so far.
     *
     * @return the ratings
     * @throws IllegalArgumentException when nothing has been rated yet
     */
    public synchronized HumanRatings ratings() {
        return HumanRatings.of(items, ratings);
    }

    /** Stops the server. */
    @Override
    public void close() {
        app.stop();
    }

    private void itemsJson(Context ctx) throws IOException {
        ArrayNode array = JSON.createArrayNode();
        items.forEach(i -> array.addObject().put("id", i.id()).put("prompt", i.prompt()).put("response", i.response()));
        ctx.contentType("application/json").result(JSON.writeValueAsBytes(array));
    }

    private void submit(Context ctx) throws IOException {
        List<Rating> parsed;
        try {
            parsed = parse(ctx.body());
        } catch (IllegalArgumentException e) {
            ObjectNode error = JSON.createObjectNode().put("error", e.getMessage());
            ctx.status(400).contentType("application/json").result(JSON.writeValueAsBytes(error));
            return;
        }
        synchronized (this) {
            ratings.addAll(parsed);
        }
        ctx.contentType("application/json").result(JSON.writeValueAsBytes(
                JSON.createObjectNode().put("accepted", parsed.size())));
    }

    private List<Rating> parse(String body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
        }
        JsonNode list = root == null ? null : root.get("ratings");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("expected {\"ratings\": [...]} with at least one rating");
        }
        Set<String> ids = items.stream().map(RatingItem::id).collect(Collectors.toSet());
        List<Rating> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode r = list.get(i);
            JsonNode item = r.get("item");
            JsonNode score = r.get("score");
            JsonNode comment = r.get("comment");
            if (item == null || !item.isTextual() || !ids.contains(item.asText())) {
                throw new IllegalArgumentException("ratings[" + i + "].item must be one of " + ids + ", was " + item);
            }
            if (score == null || !score.isInt() || score.asInt() < 1 || score.asInt() > 5) {
                throw new IllegalArgumentException("ratings[" + i + "].score must be an integer in [1, 5], was " + score);
            }
            if (comment != null && !comment.isTextual() && !comment.isNull()) {
                throw new IllegalArgumentException("ratings[" + i + "].comment must be text");
            }
            out.add(new Rating(item.asText(), score.asInt(), comment == null || comment.isNull() ? "" : comment.asText()));
        }
        return out;
    }

    private static String page() {
        try (InputStream in = RatingServer.class.getResourceAsStream("rating.html")) {
            if (in == null) {
                throw new IllegalStateException("rating.html is missing from the llm-eval jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read rating.html", e);
        }
    }
}
